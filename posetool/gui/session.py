"""The viewer's Qt-free model: the video result, current frame, selection and edit history.

Widgets read the session and call its methods; it notifies them through plain callbacks
(:meth:`AnnotationSession.subscribe`), so the whole editing logic is tested without Qt.
Every edit, undo and redo is written to the session's journal (:mod:`posetool.gui.journal`)
before the call returns; :meth:`AnnotationSession.recover` replays a journal left by a crash.
Shape letters: N persons, K keypoints.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from posetool.gui import journal as journal_io
from posetool.gui.edits import FrameEdit
from posetool.gui.journal import EditJournal, JournalContents, JournalEntry
from posetool.gui.pose_file import (
    PoseSource,
    backup_path,
    keep_backup,
    load_poses,
    write_poses,
    write_recovery_copy,
)
from posetool.gui.uncertainty import UncertaintyThresholds
from posetool.records import FrameRecord, VideoMeta, VideoResult

__all__ = ["AnnotationSession", "Selection", "UncertaintyThresholds", "align_result"]

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Selection:
    """The selected person (by track id) and joint, either may be None."""

    track_id: int | None = None
    joint: int | None = None


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
        _LOG.warning(
            "%s: %d pose frames for %d video frames", meta.path, len(frames), meta.frame_count
        )
    ts = meta.timestamps_s
    for i in range(len(frames), count):
        frames.append(_empty_frame(i, float(ts[i]) if i < len(ts) else i / meta.fps))
    name = result.meta.sequence_name if result is not None else meta.sequence_name
    timestamps = ts if len(ts) == count else np.arange(count) / meta.fps
    new_meta = replace(meta, frame_count=count, timestamps_s=timestamps, sequence_name=name)
    return VideoResult(new_meta, tuple(frames))


def _is_blank(record: FrameRecord) -> bool:
    """Whether ``record`` holds nothing an empty frame of :func:`align_result` lacks."""
    return not (
        record.num_persons or record.is_labeled or record.ignore_regions or record.image_file
    )


def _entry(edit: FrameEdit) -> JournalEntry:
    return JournalEntry("apply", edit.description, tuple(edit.after.values()))


class AnnotationSession:
    """Everything the analyst is doing with one video.

    Args:
        result: the poses, one record per frame.
        json_path: where Save writes; the journal lives beside it (None: no journal).
        source: the poses file as opened; Save keeps what it holds that was not edited.
        base: fingerprint of ``json_path`` when ``result`` was read from it (see
            :func:`~posetool.gui.journal.file_fingerprint`); None when ``result`` is not on
            disk, and then the journal starts with a snapshot of it.
        notes: what the analyst should be told about the poses (e.g. a frame-count mismatch).
        thresholds: what counts as an uncertain joint.
    """

    def __init__(
        self,
        result: VideoResult,
        json_path: str | Path | None = None,
        *,
        source: PoseSource | None = None,
        base: dict | None = None,
        notes: tuple[str, ...] = (),
        thresholds: UncertaintyThresholds | None = None,
    ) -> None:
        if result.meta.frame_count == 0:
            raise ValueError(f"{result.meta.path}: the video has no frames")
        self.result = result
        self.json_path = Path(json_path) if json_path is not None else None
        self.source = source
        self.notes = tuple(notes)
        self.thresholds = thresholds or UncertaintyThresholds()
        self.frame = 0
        self.selection = Selection()
        self.recovered_from: Path | None = None
        self.backup: Path | None = None  # the original's copy, set by the first save over it
        self.journal_error: str | None = None  # why edits are not being journaled, if so
        self._base = base
        self._snapshot = () if base else tuple(f for f in result.frames if not _is_blank(f))
        self._journal: EditJournal | None = None
        self._written: set[Path] = set()  # files this session saved (no backup of those)
        self._undo: list[FrameEdit] = []
        self._redo: list[FrameEdit] = []
        self._saved_top: FrameEdit | None = None  # top of the undo stack at the last save
        self._unsaved_recovery = False
        self._listeners: list[Callable[[str], None]] = []

    # -- opening and recovery ----------------------------------------------------------------

    @classmethod
    def open(cls, meta: VideoMeta, json_path: str | Path | None, **kwargs) -> AnnotationSession:
        """A session on the video ``meta`` with the poses of ``json_path`` (if it exists).

        Raises:
            PoseTrackFormatError: the poses file is malformed (names the file and field).
            OSError: it cannot be read.
        """
        json_path = Path(json_path) if json_path is not None else None
        if json_path is None or not json_path.is_file():
            return cls(align_result(None, meta), json_path, **kwargs)
        base = journal_io.file_fingerprint(json_path)
        loaded = load_poses(json_path, meta)
        return cls(
            loaded.result, json_path, source=loaded.source, base=base, notes=loaded.notes, **kwargs
        )

    def find_journal(self) -> JournalContents | None:
        """The journal a session that did not save left beside ``json_path``, if it holds
        edits (an empty one is removed).

        Raises:
            JournalError: there is a journal but it cannot be read.
        """
        path = journal_io.journal_path(self.json_path) if self.json_path else None
        if path is None or not path.is_file():
            return None
        contents = journal_io.read_journal(path)
        if not contents.has_work:
            path.unlink(missing_ok=True)
            return None
        return contents

    def journal_base_changed(self, contents: JournalContents) -> bool:
        """Whether the poses file changed since the journal's edits were made on it."""
        return contents.base is not None and contents.base != self._base

    def recover(self, contents: JournalContents) -> int:
        """Replay the journal ``contents`` (see :meth:`find_journal`), undo history included;
        the journal then goes on from there. Returns how many edits the file lacked.

        Raises:
            JournalError: an operation cannot be replayed (the session is left unchanged).
        """
        start = align_result(None, self.result.meta) if contents.base is None else self.result
        self.result, self._undo, self._redo, snapshot = journal_io.replay(contents, start)
        self._saved_top = None
        self._unsaved_recovery = bool(snapshot)  # the file on disk lacks the snapshot
        if contents.base is None:
            self._base = None
        self._snapshot = tuple(snapshot)
        self.recovered_from = contents.path
        self._close_journal()
        self._sync_journal()  # rewritten from what was replayed: a torn tail is gone
        self._changed()
        return contents.unsaved_count

    def set_journal_aside(self, contents: JournalContents, why: str = "declined") -> Path:
        """Rename the journal out of the way (kept, never deleted); returns its new path."""
        return journal_io.set_aside(contents.path, why)

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
        """Make ``edit``, push it on the undo stack (clears redo) and journal it."""
        self.result = edit.apply(self.result)
        self._undo.append(edit)
        self._redo.clear()
        self._log(_entry(edit))
        self._changed()

    def undo(self) -> FrameEdit | None:
        """Undo the last edit; returns it (None when there is nothing to undo)."""
        if not self._undo:
            return None
        edit = self._undo.pop()
        self.result = edit.revert(self.result)
        self._redo.append(edit)
        self._log(JournalEntry("undo"))
        self._changed()
        return edit

    def redo(self) -> FrameEdit | None:
        """Redo the last undone edit; returns it (None when there is nothing to redo)."""
        if not self._redo:
            return None
        edit = self._redo.pop()
        self.result = edit.apply(self.result)
        self._undo.append(edit)
        self._log(JournalEntry("redo"))
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
        if (
            self.selection.track_id is not None
            and self.record.index_of_track(self.selection.track_id) is None
        ):
            self.selection = Selection()
        self._notify("data")

    # -- the journal -------------------------------------------------------------------------

    def _history_entries(self) -> list[JournalEntry]:
        """Operations that rebuild the undo and redo stacks from the base."""
        entries = [JournalEntry("snapshot", "", self._snapshot)] if self._snapshot else []
        entries += [_entry(e) for e in self._undo] + [_entry(e) for e in reversed(self._redo)]
        return entries + [JournalEntry("undo")] * len(self._redo)

    def _saved_entries(self) -> int:
        """How many leading entries of :meth:`_history_entries` the file on disk holds: the
        edits up to the last save (the snapshot, when there is one, is not on disk)."""
        applied = self._undo + self._redo[::-1]
        at = next((i for i, e in enumerate(applied) if e is self._saved_top), None)
        return 0 if at is None or self._snapshot else at + 1

    def _log(self, entry: JournalEntry | None) -> None:
        """Put ``entry`` in the journal, starting it (from the whole history) if there is none.

        A failure (full disk, read-only folder) never stops the edit: it is kept in
        ``journal_error`` for the window to show, and the next operation starts the journal
        again from the whole history.
        """
        if self.json_path is None:
            return
        try:
            if self._journal is None:
                self._journal = EditJournal.create(
                    journal_io.journal_path(self.json_path),
                    self._base,
                    tuple(self._history_entries()),
                    self._saved_entries(),
                )
            elif entry is not None:
                self._journal.append(entry)
        except OSError as exc:
            reason = exc.strerror or str(exc)  # stable wording: the window says it once
            self.journal_error = f"{journal_io.journal_path(self.json_path)}: {reason}"
            _LOG.error("edits are not being journaled: %s", self.journal_error)
            self._close_journal()
        else:
            self.journal_error = None

    def _sync_journal(self) -> None:
        """Start the journal now if there is something unsaved (e.g. a pipeline result)."""
        if self.dirty:
            self._log(None)

    def _close_journal(self) -> None:
        if self._journal is not None:
            try:
                self._journal.close()
            except OSError as exc:
                _LOG.warning("closing %s: %s", self._journal.path, exc)
            self._journal = None

    def _remove_journal(self) -> None:
        self._close_journal()
        if self.json_path is not None:
            path = journal_io.journal_path(self.json_path)
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:  # left behind: replaying it later gives the same poses
                _LOG.warning("could not remove %s: %s", path, exc)

    # -- saving ------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """Whether there are changes not yet saved to ``json_path``."""
        top = self._undo[-1] if self._undo else None
        return self._unsaved_recovery or top is not self._saved_top

    def save(self, path: str | Path | None = None, fmt: str = "2018") -> Path:
        """Write the result as PoseTrack ``fmt`` JSON (every frame present), keeping what the
        opened file held and the analyst did not change.

        The first save of the session over an existing file keeps a copy of the file as
        ``NAME.json.orig`` (``backup``; an existing one is never overwritten). Saving to
        ``json_path`` (or to a new path, which becomes ``json_path``) clears the dirty flag
        and removes the journal: the file now holds every edit.
        """
        target = Path(path) if path is not None else self.json_path
        if target is None:
            raise ValueError("no file to save to; give a path")
        first = target not in self._written
        if first:
            keep_backup(target)
        write_poses(self.result, target, self.source, fmt)
        self._written.add(target)
        self.backup = backup_path(target) if first and backup_path(target).is_file() else None
        self._remove_journal()
        self.json_path = target
        self._base = journal_io.file_fingerprint(target)
        self._snapshot = ()
        self._saved_top = self._undo[-1] if self._undo else None
        self._unsaved_recovery = False
        self.recovered_from = None
        self._notify("saved")
        return target

    def export(self, path: str | Path, fmt: str = "2018") -> Path:
        """Write a copy as PoseTrack ``fmt`` JSON without changing where Save goes."""
        return write_poses(self.result, path, self.source, fmt)

    def write_recovery_copy(self) -> Path:
        """Write the poses where it works, after a failed save (see
        :func:`~posetool.gui.pose_file.write_recovery_copy`); returns the file.

        Raises:
            OSError: no folder could take it.
        """
        json_path = self.json_path or self.result.meta.path.with_suffix(".json")
        return write_recovery_copy(self.result, json_path, self.source)

    def mark_unsaved(self) -> None:
        """Flag the result as not on disk (e.g. fresh from the pipeline); the journal starts
        at once with a snapshot of it."""
        self._unsaved_recovery = True
        self._sync_journal()
        self._notify("data")

    def discard_journal(self) -> None:
        """Remove the journal: the analyst chose to drop the unsaved edits."""
        self._remove_journal()

    def close(self) -> None:
        """End the session: the journal is kept while there are unsaved edits, else removed."""
        if self.dirty:
            self._close_journal()
        else:
            self._remove_journal()
