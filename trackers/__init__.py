"""ByteTrack-style multi-object association (numpy, scipy and lap only)."""
