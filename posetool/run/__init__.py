"""The run of one video: detector, tracking, the 2δ+1 window and the pose stage, with their settings."""
