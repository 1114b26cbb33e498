"""The viewer's Qt-free model: the video result, current frame, selection and edit history.

Widgets read the session and call its methods; it notifies them through plain callbacks
(:meth:`AnnotationSession.subscribe`), so the whole editing logic is tested without Qt.
Shape letters: N persons, K keypoints.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from posetool.gui import autosave
from posetool.gui.edits import FrameEdit
from posetool.posetrack_io import read_posetrack, write_posetrack
from posetool.records import FrameRecord, VideoMeta, VideoResult

__all__ = ["AnnotationSession", "Selection", "UncertaintyThresholds", "align_result"]

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Selection:
    """The selected person (by track id) and joint, either may be None."""

    track_id: int | None = None
    joint: int | None = None


@dataclass(frozen=True)
class UncertaintyThresholds:
    """When a visible joint counts as uncertain.

    Attributes:
        spread_px: ensemble spread above this (pixels) is uncertain.
        min_score: a score below this is uncertain.
    """

    spread_px: float = 8.0
    min_score: float = 0.3

    def __post_init__(self) -> None:
        if not self.spread_px > 0:
            raise ValueError(f"spread_px must be > 0, got {self.spread_px}")
        if not 0 <= self.min_score <= 1:
            raise ValueError(f"min_score must be in [0, 1], got {self.min_score}")

    def mask(self, record: FrameRecord) -> np.ndarray:
        """(N, K) bool, visible joints of ``record`` that are uncertain."""
        spread = np.nan_to_num(record.keypoint_spread_px, nan=0.0)
        bad = (spread > self.spread_px) | (record.keypoint_scores < self.min_score)
        return bad & record.keypoint_visible


def _empty_frame(index: int, timestamp_s: float) -> FrameRecord:
    return FrameRecord(frame_index=index, timestamp_s=timestamp_s, is_labeled=False)


def align_result(result: VideoResult | None, meta: VideoMeta) -> VideoResult:
    """Fit ``result`` to the video described by ``meta``: one record per frame.

    Missing frames are added empty; frames the video lacks are kept (the viewer shows them
    without an image) and ``frame_count`` grows to hold them. The video's meta wins
    (fps, size, path); the sequence name stays the file's so ids and file names round-trip.
    """
    frames = list(result.frames) if result is not None else []
    count = max(meta.frame_count, len(frames))
    if result is not None and len(frames) != meta.frame_count:
        _LOG.warning("%s: %d pose frames for %d video frames", meta.path, len(frames),
                     meta.frame_count)  # fmt: skip
    ts = meta.timestamps_s
    for i in range(len(frames), count):
        frames.append(_empty_frame(i, float(ts[i]) if i < len(ts) else i / meta.fps))
    name = result.meta.sequence_name if result is not None else meta.sequence_name
    timestamps = ts if len(ts) == count else np.arange(count) / meta.fps
    new_meta = replace(meta, frame_count=count, timestamps_s=timestamps, sequence_name=name)
    return VideoResult(new_meta, tuple(frames))


class AnnotationSession:
    """Everything the analyst is doing with one video.

    Args:
        result: the poses, one record per frame.
        json_path: where Save writes (and the autosave sidecar lives beside).
        autosave_every: write the sidecar after this many edits (0 = never by count).
        thresholds: what counts as an uncertain joint.
    """

    def __init__(
        self, result: VideoResult, json_path: str | Path | None = None, *,
        autosave_every: int = 5, thresholds: UncertaintyThresholds | None = None,
    ) -> None:  # fmt: skip
        if result.meta.frame_count == 0:
            raise ValueError(f"{result.meta.path}: the video has no frames")
        self.result = result
        self.json_path = Path(json_path) if json_path is not None else None
        self.autosave_every = autosave_every
        self.thresholds = thresholds or UncertaintyThresholds()
        self.frame = 0
        self.selection = Selection()
        self.recovered_from: Path | None = None
        self._undo: list[FrameEdit] = []
        self._redo: list[FrameEdit] = []
        self._saved_top: FrameEdit | None = None  # top of the undo stack at the last save
        self._unsaved_recovery = False
        self._edits_since_autosave = 0
        self._listeners: list[Callable[[str], None]] = []

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls, meta: VideoMeta, json_path: str | Path | None, *, recover: bool = True, **kwargs
    ) -> AnnotationSession:
        """A session on the video ``meta`` with the poses of ``json_path`` (if it exists).

        If an autosave sidecar newer than ``json_path`` exists and ``recover`` is set, the
        sidecar is loaded instead and the session starts dirty (``recovered_from`` names it).
        """
        json_path = Path(json_path) if json_path is not None else None
        source = None
        side = autosave.recoverable_sidecar(json_path) if json_path and recover else None
        if side is not None:
            source = side
        elif json_path is not None and json_path.is_file():
            source = json_path
        loaded = None
        if source is not None:
            loaded = read_posetrack(source, video_path=meta.path, fps=meta.fps,
                                    size=(meta.width, meta.height))  # fmt: skip
        session = cls(align_result(loaded, meta), json_path, **kwargs)
        if side is not None:
            _LOG.warning("recovered unsaved edits from %s", side)
            session.recovered_from = side
            session._unsaved_recovery = True  # the file on disk lacks these edits
        return session

    # -- observers ---------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(what)`` on change; ``what`` is "frame", "selection" or "data"."""
        self._listeners.append(callback)

    def _notify(self, what: str) -> None:
        for callback in list(self._listeners):
            callback(what)

    # -- navigation and selection ------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        return self.result.meta.frame_count

    @property
    def record(self) -> FrameRecord:
        """The current frame's record."""
        return self.result.frames[self.frame]

    def set_frame(self, index: int) -> None:
        """Go to frame ``index`` (clamped to the video)."""
        index = int(min(max(index, 0), self.frame_count - 1))
        if index != self.frame:
            self.frame = index
            self._notify("frame")

    def step(self, delta: int) -> None:
        """Move ``delta`` frames forward (negative: back)."""
        self.set_frame(self.frame + delta)

    def select(self, track_id: int | None, joint: int | None = None) -> None:
        """Select a person (and joint); None clears."""
        new = Selection(track_id, joint if track_id is not None else None)
        if new != self.selection:
            self.selection = new
            self._notify("selection")

    def uncertain_mask(self, frame: int | None = None) -> np.ndarray:
        """(N, K) bool uncertain joints of ``frame`` (default: the current one)."""
        return self.thresholds.mask(self.result.frames[self.frame if frame is None else frame])

    def set_thresholds(self, thresholds: UncertaintyThresholds) -> None:
        self.thresholds = thresholds
        self._notify("data")

    def find_uncertain(self, direction: int = 1) -> int | None:
        """The nearest frame after (``direction`` > 0) or before the current one that has an
        uncertain joint, or None."""
        step = 1 if direction > 0 else -1
        i = self.frame + step
        while 0 <= i < self.frame_count:
            if self.uncertain_mask(i).any():
                return i
            i += step
        return None

    def goto_uncertain(self, direction: int = 1) -> bool:
        """Jump to the next (or previous) frame with an uncertain joint; False if none."""
        found = self.find_uncertain(direction)
        if found is not None:
            self.set_frame(found)
        return found is not None

    # -- edits and history -------------------------------------------------------------------

    def apply(self, edit: FrameEdit) -> None:
        """Make ``edit`` and push it on the undo stack (clears redo)."""
        self.result = edit.apply(self.result)
        self._undo.append(edit)
        self._redo.clear()
        self._changed()

    def undo(self) -> FrameEdit | None:
        """Undo the last edit; returns it (None when there is nothing to undo)."""
        if not self._undo:
            return None
        edit = self._undo.pop()
        self.result = edit.revert(self.result)
        self._redo.append(edit)
        self._changed()
        return edit

    def redo(self) -> FrameEdit | None:
        """Redo the last undone edit; returns it (None when there is nothing to redo)."""
        if not self._redo:
            return None
        edit = self._redo.pop()
        self.result = edit.apply(self.result)
        self._undo.append(edit)
        self._changed()
        return edit

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_text(self) -> str:
        return self._undo[-1].description if self._undo else ""

    @property
    def redo_text(self) -> str:
        return self._redo[-1].description if self._redo else ""

    def _changed(self) -> None:
        self._edits_since_autosave += 1
        if (
            self.selection.track_id is not None
            and self.record.index_of_track(self.selection.track_id) is None
        ):
            self.selection = Selection()
        if self.autosave_every and self._edits_since_autosave >= self.autosave_every:
            self.autosave()
        self._notify("data")

    # -- saving ------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """Whether there are changes not yet saved to ``json_path``."""
        top = self._undo[-1] if self._undo else None
        return self._unsaved_recovery or top is not self._saved_top

    def save(self, path: str | Path | None = None, fmt: str = "2018") -> Path:
        """Write the result as PoseTrack ``fmt`` JSON (every frame present).

        Saving to ``json_path`` (or to a new path, which becomes ``json_path``) clears the
        dirty flag and removes the autosave sidecar.
        """
        target = Path(path) if path is not None else self.json_path
        if target is None:
            raise ValueError("no file to save to; give a path")
        write_posetrack(self.result, target, fmt=fmt)
        if self.json_path is not None and self.json_path != target:
            autosave.remove_sidecar(self.json_path)
        self.json_path = target
        autosave.remove_sidecar(target)
        self._saved_top = self._undo[-1] if self._undo else None
        self._unsaved_recovery = False
        self._edits_since_autosave = 0
        self.recovered_from = None
        self._notify("saved")
        return target

    def export(self, path: str | Path, fmt: str = "2018") -> Path:
        """Write a copy as PoseTrack ``fmt`` JSON without changing where Save goes."""
        return write_posetrack(self.result, path, fmt=fmt)

    def autosave(self) -> Path | None:
        """Write the sidecar if there are unsaved changes; returns it (None if nothing to do)."""
        self._edits_since_autosave = 0
        if not self.dirty or self.json_path is None:
            return None
        try:
            return autosave.write_sidecar(self.result, self.json_path)
        except OSError as exc:  # a full disk must not kill the editing session
            _LOG.error("autosave to %s failed: %s", autosave.autosave_path(self.json_path), exc)
            return None

    def mark_unsaved(self) -> None:
        """Flag the result as not on disk (e.g. fresh from the pipeline)."""
        self._unsaved_recovery = True
        self._notify("data")

    def discard_autosave(self) -> None:
        """Remove the sidecar (the analyst chose to close without saving)."""
        if self.json_path is not None:
            autosave.remove_sidecar(self.json_path)
