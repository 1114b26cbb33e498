"""Running many videos: the batch runner, its output names and resume, and the Ray engine."""
