"""Video input that survives real files: video containers via OpenCV/FFmpeg and
PoseTrack-style image folders, streamed frame by frame.

Shapes: H, W image height and width (after rotation); frames are BGR uint8 (H, W, 3).

Decisions that matter downstream:
- Rotation is explicit: OpenCV's own auto-rotation (``CAP_PROP_ORIENTATION_AUTO``, on by
  default for FFmpeg in OpenCV >= 4.5) is switched off and the container's rotation
  (``CAP_PROP_ORIENTATION_META``, degrees clockwise) is applied here with ``cv2.rotate``, so
  frames, ``VideoProbe.width/height`` and ``rotation_deg`` agree whatever the OpenCV version.
- Timestamps come from the decoder (``CAP_PROP_POS_MSEC``, variable-frame-rate safe), in
  seconds since the first decoded frame. A timestamp that is missing or does not increase
  (H.264 in AVI reports 0 for the frames flushed at the end) is replaced by the previous one
  plus 1/fps and counted in ``DecodeReport.timestamp_fallbacks``.
- ``frame_index`` of a video is the position in decode order; ``CAP_PROP_POS_FRAMES`` seeking
  counts container entries instead (an AVI dropped-frame entry shifts it by one), so
  ``read_frame`` seeks by the decoder timestamp recorded while streaming and checks where it
  landed; far past what was streamed, by the frame's time from the container's packets
  (:mod:`posetool.io.video_index`, read without decoding), checked against the decoder too.
  Decoding forward from the start is the exact fallback; ``should_stop`` cancels it. For
  image folders the index is the file's position in the sorted folder, so a broken image is
  skipped without shifting the others.
- Memory: one frame at a time plus one float per frame seen (the seek table).
- Console: OpenCV's ``[ WARN:0@...]`` lines and FFmpeg's (``moov atom not found``) are off
  unless asked for (:func:`quiet_video_backends`); decode problems reach the user through
  :class:`DecodeReport` and :class:`VideoOpenError` instead.
"""

from __future__ import annotations

import logging
import math
import os
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import cv2
import numpy as np

from posetool.io.inputs import IMAGE_FOLDER_FPS, IMAGE_SUFFIXES, image_files
from posetool.io.video_index import ReadCancelled, packet_times_ms

logger = logging.getLogger(__name__)

_ROTATE_CODES = {
    90: cv2.ROTATE_90_CLOCKWISE,
    180: cv2.ROTATE_180,
    270: cv2.ROTATE_90_COUNTERCLOCKWISE,
}
#: FFmpeg's AV_LOG_QUIET; OpenCV passes OPENCV_FFMPEG_LOGLEVEL to av_log_set_level.
_FFMPEG_QUIET = "-8"
_FORWARD_WINDOW = 64  # read_frame decodes forward instead of seeking when this close ahead
_MSEC_TOLERANCE = 0.5


def quiet_video_backends() -> None:
    """Keep OpenCV's and FFmpeg's messages about broken files off the console.

    FFmpeg's level is read when OpenCV first opens a video (tested with opencv-python 5.0:
    setting ``OPENCV_FFMPEG_LOGLEVEL`` later has no effect, and
    ``cv2.utils.logging.setLogLevel`` silences OpenCV's own lines but not FFmpeg's), so call
    this before any video is opened. Levels the user set in the environment are kept.
    """
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", _FFMPEG_QUIET)
    if "OPENCV_LOG_LEVEL" not in os.environ:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


class VideoOpenError(RuntimeError):
    """A video file or image folder that cannot be opened; names the path and the reason."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot open video '{self.path}': {reason}")


class Frame(NamedTuple):
    """One decoded frame: unpacks as ``(frame_index, timestamp_s, frame_bgr)``."""

    frame_index: int
    timestamp_s: float
    frame_bgr: np.ndarray


@dataclass(frozen=True)
class VideoProbe:
    """What is known about an input before decoding it.

    Attributes:
        path: The video file or image folder.
        kind: ``"video"`` or ``"images"``.
        fps: Nominal frame rate (the container's, or the caller's for image folders).
        frame_count: Frames the container announces (0 when unknown); for image folders the
            number of image files.
        width: Frame width in px, after rotation.
        height: Frame height in px, after rotation.
        rotation_deg: Clockwise rotation applied to the decoded frames (0, 90, 180, 270).
    """

    path: Path
    kind: Literal["video", "images"]
    fps: float
    frame_count: int
    width: int
    height: int
    rotation_deg: int

    def __post_init__(self) -> None:
        if self.kind not in ("video", "images"):
            raise ValueError(f"kind must be 'video' or 'images', got {self.kind!r}")
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"fps must be finite and > 0, got {self.fps}")
        if self.frame_count < 0:
            raise ValueError(f"frame_count must be >= 0, got {self.frame_count}")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"size must be positive, got {self.width}x{self.height}")
        if self.rotation_deg not in (0, 90, 180, 270):
            raise ValueError(f"rotation_deg must be 0, 90, 180 or 270, got {self.rotation_deg}")


@dataclass(frozen=True)
class DecodeReport:
    """How decoding went, so truncation is reported instead of silently accepted.

    Attributes:
        path: The input.
        expected_frames: Frames announced by the container (0 when unknown). For AVI/MPEG-4
            this is an index count that can include dropped-frame entries.
        decoded_frames: Frames actually yielded.
        failed_frames: Frames that could not be decoded (unreadable images in a folder).
        timestamp_fallbacks: Frames whose decoder timestamp was missing or not increasing and
            was replaced by previous + 1/fps.
        reached_end: Whether the stream was read to its end (False when the consumer stopped).
    """

    path: Path
    expected_frames: int
    decoded_frames: int
    failed_frames: int = 0
    timestamp_fallbacks: int = 0
    reached_end: bool = False

    def __post_init__(self) -> None:
        for name in ("expected_frames", "decoded_frames", "failed_frames", "timestamp_fallbacks"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    @property
    def missing_frames(self) -> int:
        """Announced frames that were not decoded (0 when the count is unknown)."""
        return max(0, self.expected_frames - self.decoded_frames)

    @property
    def complete(self) -> bool:
        """Read to the end with every announced frame decoded and no failures."""
        return self.reached_end and self.missing_frames == 0 and self.failed_frames == 0


def _read_image(path: Path) -> np.ndarray | None:
    # np.fromfile + imdecode: cv2.imread cannot open non-ASCII paths on Windows.
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    return image if image is not None and image.ndim == 3 else None


def _open_capture(path: Path) -> tuple[cv2.VideoCapture, int]:
    """Open with FFmpeg, OpenCV's auto-rotation off; returns the capture and the rotation
    still to apply (0 when the backend insists on rotating itself)."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise VideoOpenError(
            path, "OpenCV/FFmpeg cannot read it (not a video, corrupt or unsupported codec)"
        )
    rotation = int(round(cap.get(cv2.CAP_PROP_ORIENTATION_META))) % 360
    if rotation not in _ROTATE_CODES:
        if rotation:
            logger.warning("%s: ignoring unsupported rotation %d deg", path, rotation)
        rotation = 0
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
    if cap.get(cv2.CAP_PROP_ORIENTATION_AUTO):  # backend rotates by itself: do not rotate twice
        rotation = 0
    return cap, rotation


class VideoReader:
    """Streams a video file or an image folder; also reads single frames by index.

    Use as a context manager; iterate once for ``Frame(frame_index, timestamp_s,
    frame_bgr)`` tuples; then ``report`` says how many frames decoded against how many were
    announced.

    Args:
        path: Video file, folder of images (a video's frames) or one image (a photo).
        image_fps: Frame rate assumed for image folders (they carry none; default
            :data:`posetool.io.inputs.IMAGE_FOLDER_FPS`).
        fps_fallback: Frame rate used when a container announces none.

    Raises:
        VideoOpenError: Missing path, empty folder, unreadable file or no decodable frame.
    """

    def __init__(
        self, path: str | Path, *, image_fps: float = IMAGE_FOLDER_FPS, fps_fallback: float = 30.0
    ) -> None:
        if not (image_fps > 0 and fps_fallback > 0):
            raise ValueError(f"frame rates must be > 0, got {image_fps}, {fps_fallback}")
        self.path = Path(path)
        self._cap: cv2.VideoCapture | None = None
        self._seek_cap: cv2.VideoCapture | None = None
        self._seek_next = 0  # decode-order index the seek capture reads next
        self._images: list[Path] = []
        self._raw_msec = array("d")  # decoder timestamp per decode-order index (the seek table)
        self._packet_msec: np.ndarray | None = None  # frame times from the packets, once read
        self._end_index: int | None = None  # decoded frame count once the end was seen
        self._decoded = self._failed = self._fallbacks = 0
        self._iterated = False
        if not self.path.exists():
            raise VideoOpenError(self.path, "no such file or folder")
        if self.path.is_dir():
            self.probe = self._probe_images(image_fps, image_files(self.path))
        elif self.path.suffix.lower() in IMAGE_SUFFIXES:  # a photo: decoded as an image
            self.probe = self._probe_images(image_fps, [self.path])  # (EXIF rotation applied)
        else:
            self.probe = self._probe_video(fps_fallback)

    def _probe_images(self, fps: float, images: list[Path]) -> VideoProbe:
        self._images = images
        if not self._images:
            raise VideoOpenError(self.path, f"folder holds no {'/'.join(sorted(IMAGE_SUFFIXES))}")
        first = next((im for p in self._images[:10] if (im := _read_image(p)) is not None), None)
        if first is None:
            what = "the first images" if self.path.is_dir() else "the image"
            raise VideoOpenError(self.path, f"none of {what} can be decoded")
        height, width = first.shape[:2]
        return VideoProbe(self.path, "images", fps, len(self._images), width, height, 0)

    def _probe_video(self, fps_fallback: float) -> VideoProbe:
        self._cap, self._rotation = _open_capture(self.path)
        ok, frame = self._cap.read()
        if not ok or frame is None:
            self.close()
            raise VideoOpenError(self.path, "no frame can be decoded")
        self._pending: tuple[float, np.ndarray] | None = (
            self._cap.get(cv2.CAP_PROP_POS_MSEC),
            self._rotate(frame),
        )
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        if not (math.isfinite(fps) and 0 < fps < 1000):
            logger.warning(
                "%s: container fps %r unusable, assuming %g", self.path, fps, fps_fallback
            )
            fps = fps_fallback
        count = self._cap.get(cv2.CAP_PROP_FRAME_COUNT)
        count = int(count) if math.isfinite(count) and count > 0 else 0
        height, width = self._pending[1].shape[:2]
        return VideoProbe(self.path, "video", float(fps), count, width, height, self._rotation)

    def _rotate(self, frame: np.ndarray) -> np.ndarray:
        return cv2.rotate(frame, _ROTATE_CODES[self._rotation]) if self._rotation else frame

    @property
    def report(self) -> DecodeReport:
        """Decoding so far (final once iteration has ended)."""
        return DecodeReport(
            self.path,
            self.probe.frame_count,
            self._decoded,
            self._failed,
            self._fallbacks,
            self._end_index is not None,
        )

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the decoders (idempotent)."""
        for cap in (self._cap, self._seek_cap):
            if cap is not None:
                cap.release()
        self._cap = self._seek_cap = None

    def __iter__(self) -> Iterator[Frame]:
        if self._iterated:
            raise RuntimeError(f"{self.path}: a VideoReader streams once; open a new one")
        self._iterated = True
        return self._stream_images() if self.probe.kind == "images" else self._stream_video()

    def _stream_images(self) -> Iterator[Frame]:
        for index, path in enumerate(self._images):
            frame = _read_image(path)
            if frame is None:
                self._failed += 1
                logger.warning("%s: cannot decode image %s, skipped", self.path, path.name)
                continue
            self._decoded += 1
            yield Frame(index, index / self.probe.fps, frame)
        self._end_index = len(self._images)

    def _stream_video(self) -> Iterator[Frame]:
        if self._cap is None:
            raise RuntimeError(f"{self.path}: reader is closed")
        step_s = 1.0 / self.probe.fps
        first_msec: float | None = None
        last_s = -step_s
        while self._pending is not None:
            raw_msec, frame = self._pending
            index = self._decoded
            if index == len(self._raw_msec):
                self._raw_msec.append(raw_msec)
            if first_msec is None and math.isfinite(raw_msec) and raw_msec >= 0:
                first_msec = raw_msec
            stamp_s = (raw_msec - first_msec) / 1000.0 if first_msec is not None else math.nan
            if not (math.isfinite(stamp_s) and stamp_s > last_s):
                stamp_s = last_s + step_s
                self._fallbacks += index > 0 or first_msec is None
            last_s = stamp_s
            self._decoded += 1
            yield Frame(index, stamp_s, frame)
            ok, nxt = self._cap.read() if self._cap is not None else (False, None)
            self._pending = (
                (self._cap.get(cv2.CAP_PROP_POS_MSEC), self._rotate(nxt)) if ok else None
            )
        self._end_index = self._decoded
        if self.report.missing_frames:
            logger.warning(
                "%s: decoded %d of %d announced frames",
                self.path,
                self._decoded,
                self.probe.frame_count,
            )

    def read_frame(self, index: int, should_stop: Callable[[], bool] | None = None) -> np.ndarray:
        """Return the frame ``index`` as iteration yields it (BGR uint8, rotated).

        Close ahead of the last read it decodes forward; otherwise it seeks to the decoder
        timestamp recorded for ``index`` or, past the recorded ones, to the frame's time from
        the container's packets, and checks it landed there; decoding from the start is the
        exact fallback (only files with broken timestamps pay that).

        Args:
            index: decode-order frame index.
            should_stop: looked at while indexing or decoding forward; True cancels.

        Raises:
            IndexError: ``index`` is negative or past the last decodable frame.
            ValueError: The image at ``index`` of an image folder cannot be decoded.
            ReadCancelled: ``should_stop()`` returned True (the reader stays usable).
        """
        if index < 0 or (self._end_index is not None and index >= self._end_index):
            raise IndexError(f"{self.path}: frame {index} out of range")
        if self.probe.kind == "images":
            if index >= len(self._images):
                raise IndexError(f"{self.path}: frame {index} out of range")
            frame = _read_image(self._images[index])
            if frame is None:
                raise ValueError(f"{self.path}: cannot decode image {self._images[index].name}")
            return frame
        if self._seek_cap is None or not (0 <= index - self._seek_next <= _FORWARD_WINDOW):
            if index >= max(len(self._raw_msec), 1):  # past the seek table
                frame = self._read_by_packet_time(index, should_stop)
                if frame is not None:
                    return frame
            if not self._seek_to(index):
                self._reopen_seek()
        return self._decode_forward(index, should_stop)

    def _read_by_packet_time(
        self, index: int, should_stop: Callable[[], bool] | None
    ) -> np.ndarray | None:
        """Frame ``index`` sought by its time from the packets and verified, or None (then
        the packet times are not used again: the decoder disagrees with them)."""
        if self._packet_msec is None:
            self._packet_msec = packet_times_ms(self.path, should_stop)
        times = self._packet_msec
        if not (1 <= index < len(times)) or not self._land_before(index, times[index - 1]):
            return None
        frame = self._decode_forward(index, should_stop)
        assert self._seek_cap is not None
        if abs(self._seek_cap.get(cv2.CAP_PROP_POS_MSEC) - times[index]) <= _MSEC_TOLERANCE:
            return frame
        logger.debug("%s: decoder times disagree with packet times", self.path)
        self._packet_msec = np.zeros(0)
        return None

    def _reopen_seek(self) -> None:
        if self._seek_cap is not None:
            self._seek_cap.release()
        self._seek_cap, _ = _open_capture(self.path)
        self._seek_next = 0

    def _seek_to(self, index: int) -> bool:
        """Position the seek capture at the closest recorded frame <= index, verified."""
        known = min(index, len(self._raw_msec) - 1)
        if known <= 0:
            return False
        target = self._raw_msec[known]
        if self._raw_msec[known - 1] >= target:  # non-increasing timestamps: cannot trust them
            return False
        return self._land_before(known, self._raw_msec[known - 1])

    def _land_before(self, index: int, msec_before: float) -> bool:
        """Seek to the frame before ``index`` (at ``msec_before``) and check it landed there;
        ``_decode_forward`` then steps onto ``index``."""
        if self._seek_cap is None:
            self._reopen_seek()
        assert self._seek_cap is not None
        self._seek_cap.set(cv2.CAP_PROP_POS_MSEC, msec_before)
        if not self._seek_cap.grab():
            return False
        landed = self._seek_cap.get(cv2.CAP_PROP_POS_MSEC)
        if abs(landed - msec_before) > _MSEC_TOLERANCE:
            return False
        self._seek_next = index
        return True

    def _decode_forward(
        self, index: int, should_stop: Callable[[], bool] | None = None
    ) -> np.ndarray:
        cap = self._seek_cap
        assert cap is not None
        while self._seek_next < index:
            if should_stop is not None and self._seek_next % 8 == 0 and should_stop():
                raise ReadCancelled(f"{self.path}: reading frame {index} stopped")
            if not cap.grab():
                raise IndexError(f"{self.path}: frame {index} is past the last decodable frame")
            if self._seek_next == len(self._raw_msec):  # extend the table past the stream
                self._raw_msec.append(cap.get(cv2.CAP_PROP_POS_MSEC))
            self._seek_next += 1
        ok, frame = cap.read()
        if not ok or frame is None:
            raise IndexError(f"{self.path}: frame {index} is past the last decodable frame")
        if self._seek_next == len(self._raw_msec):
            self._raw_msec.append(cap.get(cv2.CAP_PROP_POS_MSEC))
        self._seek_next += 1
        return self._rotate(frame)
