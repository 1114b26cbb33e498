"""Frame decoding off the GUI thread: one decoder per thread, images cached on the GUI side.

:class:`FrameSource` lives on the GUI thread; it owns a QThread running a
:class:`DecodeWorker`, which owns its own :class:`~posetool.io.video_io.VideoReader` (readers are
never shared between threads). Requests are coalesced: while the worker decodes, only the
newest request is kept, so scrubbing the slider never queues a backlog; a newer request (or
closing) also cancels a long read under way (the first jump far into a video is sought by
time and needs none, but a file whose timestamps cannot be trusted decodes from the start).
Decoded frames come back as QImage through a signal and are kept in a small LRU cache.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

from posetool.io.video_index import ReadCancelled
from posetool.io.video_io import VideoOpenError, VideoReader

__all__ = ["DecodeWorker", "FrameSource", "bgr_to_qimage"]

_LOG = logging.getLogger(__name__)


def bgr_to_qimage(frame_bgr: np.ndarray) -> QImage:
    """A QImage owning a copy of ``frame_bgr`` (H, W, 3 uint8) as RGB888."""
    rgb = np.ascontiguousarray(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class DecodeWorker(QObject):
    """Decodes frames of one input on its own thread, with its own reader."""

    frameReady = Signal(int, QImage)  # noqa: N815 - Qt signal naming
    failed = Signal(int, str)

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self._reader: VideoReader | None = None
        self._lock = threading.Lock()
        self._wanted: int | None = None
        self._stopping = threading.Event()

    def want(self, index: int) -> None:
        """Record the newest wanted frame (any thread); the decode slot reads it."""
        with self._lock:
            self._wanted = index

    def stop(self) -> None:
        """Cancel the read under way (any thread): the source is closing."""
        self._stopping.set()

    def _superseded(self) -> bool:
        """Whether the read under way is no longer wanted (newer request, or closing)."""
        return self._stopping.is_set() or self._wanted is not None

    @Slot()
    def decode_wanted(self) -> None:
        """Decode the newest wanted frame, if any is still pending."""
        with self._lock:
            index, self._wanted = self._wanted, None
        if index is None:
            return
        try:
            if self._reader is None:
                self._reader = VideoReader(self._path)  # image folders: the pipeline's frame rate
            image = bgr_to_qimage(self._reader.read_frame(index, self._superseded))
        except ReadCancelled:
            return  # the newer request has its own queued decode
        except (IndexError, ValueError, VideoOpenError) as exc:
            self.failed.emit(index, str(exc))
            return
        self.frameReady.emit(index, image)

    @Slot()
    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


class FrameSource(QObject):
    """GUI-side frame provider: cache hits answer at once, misses go to the worker thread.

    Args:
        path: video file or image folder.
        cache_size: decoded frames kept (QImages of the full frame).
    """

    frameReady = Signal(int, QImage)  # noqa: N815
    failed = Signal(int, str)
    _kick = Signal()

    def __init__(
        self, path: str | Path, cache_size: int = 24, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self._cache: OrderedDict[int, QImage] = OrderedDict()
        self._cache_size = cache_size
        self._thread = QThread(self)
        self._thread.setObjectName(f"decode:{self.path.name}")
        self._worker = DecodeWorker(self.path)
        self._worker.moveToThread(self._thread)
        self._kick.connect(self._worker.decode_wanted)
        self._worker.frameReady.connect(self._on_frame)
        self._worker.failed.connect(self.failed)
        self._thread.start()

    def cached(self, index: int) -> QImage | None:
        image = self._cache.get(index)
        if image is not None:
            self._cache.move_to_end(index)
        return image

    def request(self, index: int) -> None:
        """Ask for frame ``index``; ``frameReady`` follows (at once on a cache hit)."""
        image = self.cached(index)
        if image is not None:
            self.frameReady.emit(index, image)
            return
        self._worker.want(index)
        self._kick.emit()

    @Slot(int, QImage)
    def _on_frame(self, index: int, image: QImage) -> None:
        self._cache[index] = image
        self._cache.move_to_end(index)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        self.frameReady.emit(index, image)

    def close(self) -> None:
        """Stop the worker thread and release its reader."""
        if self._thread.isRunning():
            self._worker.stop()
            self._thread.quit()
            self._thread.wait()
            self._worker.close()
