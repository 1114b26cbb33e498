"""Running many videos: the batch runner, its output names and resume, the summaries it
keeps, and the Ray engine."""
