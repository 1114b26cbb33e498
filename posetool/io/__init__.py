"""Input and output formats: video reading, input discovery, PoseTrack/COCO/CSV writers, overlay rendering, smoothing of results, and what may replace an output."""
