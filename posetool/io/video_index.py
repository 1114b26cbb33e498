"""The presentation time of every frame of a video, read from the container without decoding.

With FFmpeg's raw mode (``CAP_PROP_FORMAT = -1``) OpenCV's ``grab`` returns packets instead of
decoded frames: a pass over the file costs reading it, not decoding it (README, Performance,
has the figure). The packets' timestamps, sorted,
are the frames' presentation times in display order, so frame ``i`` can be sought by its time
at once, then verified against the decoder, instead of decoding frames ``0..i``. A dropped-frame
entry of an AVI index yields no packet, as it yields no frame.

Qt-free.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

__all__ = ["ReadCancelled", "packet_times_ms"]

_CHECK_EVERY = 2048  # packets between two looks at should_stop


class ReadCancelled(Exception):
    """A read stopped because the caller's ``should_stop`` asked it to."""


def packet_times_ms(path: str | Path, should_stop: Callable[[], bool] | None = None) -> np.ndarray:
    """Sorted presentation times (ms, as OpenCV reports ``CAP_PROP_POS_MSEC``) of the packets
    of ``path``'s video stream; empty when the backend cannot read packets.

    Raises:
        ReadCancelled: ``should_stop()`` returned True (looked at every 2,048 packets).
    """
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not cap.isOpened() or not cap.set(cv2.CAP_PROP_FORMAT, -1):
            return np.zeros(0)
        stamps = array("d")
        while cap.grab():
            stamps.append(cap.get(cv2.CAP_PROP_POS_MSEC))
            if should_stop is not None and len(stamps) % _CHECK_EVERY == 0 and should_stop():
                raise ReadCancelled(f"{path}: indexing stopped")
        return np.sort(np.frombuffer(stamps, np.float64)) if stamps else np.zeros(0)
    finally:
        cap.release()
