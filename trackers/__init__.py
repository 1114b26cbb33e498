"""ByteTrack-style multi-object association (numpy, scipy and lap only)."""

from trackers.byte_tracker import ByteTracker
from trackers.config import ByteTrackConfig
from trackers.output import TrackerOutput

__all__ = ["ByteTrackConfig", "ByteTracker", "TrackerOutput"]
