"""The edit journal: every edit of a viewer session, on disk the moment it is made.

``clip.json`` has the journal ``clip.json.journal``, JSON lines. The first line is a header
saying what the edits apply to: the poses file as the session loaded it (its size and mtime),
or empty frames (nothing was on disk; a ``snapshot`` line then holds the frames the session
started from, e.g. a result fresh from the pipeline). Every further line is one operation:
``apply`` (the frames an edit replaces, as complete records, and its description), ``undo`` or
``redo``; a record's columns are base64 of their raw bytes. Each line is written, flushed and fsynced before the edit returns, so no edit is lost
to a crash or a kill; a line torn by a crash mid-write can only be the last one, and replay
ignores it. A clean save, or the analyst discarding the edits, removes the journal; a journal
the analyst declines to recover, or one that cannot be read, is renamed aside, never deleted.

Qt-free.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from base64 import b64decode, b64encode
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from diffpose.keypoints import NUM_KEYPOINTS
from posetool.gui.edits import EditError, FrameEdit
from posetool.records import FrameRecord, VideoResult

__all__ = [
    "EditJournal",
    "JournalContents",
    "JournalEntry",
    "JournalError",
    "Replayed",
    "file_fingerprint",
    "journal_path",
    "read_journal",
    "replay",
    "set_aside",
]

SUFFIX = ".journal"
FORMAT_VERSION = 1
#: Per-person columns of a record: dtype and shape after the person axis. Stored as base64 of
#: the raw little-endian bytes: exact, NaN-safe, and faster than lists of floats (README).
_COLUMNS = {
    "boxes_xyxy": ("<f4", (4,)),
    "box_scores": ("<f4", ()),
    "track_ids": ("<i8", ()),
    "keypoints_xy": ("<f4", (NUM_KEYPOINTS, 2)),
    "keypoint_scores": ("<f4", (NUM_KEYPOINTS,)),
    "keypoint_spread_px": ("<f4", (NUM_KEYPOINTS,)),
    "keypoint_visible": ("|b1", (NUM_KEYPOINTS,)),
    "head_boxes_xyxy": ("<f4", (4,)),
    "human_edited": ("|b1", ()),
    "reviewed": ("|b1", ()),
    "interpolated": ("|b1", ()),
}
#: Columns a journal of an older viewer lacks; they start as the record's default.
_OPTIONAL_COLUMNS = ("reviewed", "interpolated")
OPS = ("snapshot", "apply", "undo", "redo")


class JournalError(ValueError):
    """A journal that cannot be replayed; the message names the file and the line."""


def journal_path(json_path: str | Path) -> Path:
    """The journal of the poses file ``json_path``."""
    json_path = Path(json_path)
    return json_path.with_name(json_path.name + SUFFIX)


def file_fingerprint(path: str | Path) -> dict | None:
    """Size and mtime of ``path`` (None if it does not exist): tells whether it changed."""
    try:
        st = Path(path).stat()
    except FileNotFoundError:
        return None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def set_aside(path: str | Path, why: str) -> Path:
    """Rename ``path`` to ``NAME.<why>-YYYYmmdd-HHMMSS`` (kept, out of the way); returns it."""
    path = Path(path)
    target = path.with_name(f"{path.name}.{why}-{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(path, target)
    return target


def _record_to_json(rec: FrameRecord) -> dict:
    columns = (
        {
            name: b64encode(np.ascontiguousarray(getattr(rec, name), dtype)).decode("ascii")
            for name, (dtype, _) in _COLUMNS.items()
        }
        if rec.num_persons
        else {}
    )
    return {
        "frame_index": rec.frame_index,
        "timestamp_s": rec.timestamp_s,
        "is_labeled": rec.is_labeled,
        "image_file": rec.image_file,
        "ignore_regions": [p.tolist() for p in rec.ignore_regions],
        "persons": rec.num_persons,
        "columns": columns,
    }


def _record_from_json(data: dict) -> FrameRecord:
    n = int(data["persons"])
    stored = data["columns"]
    columns = {
        name: np.frombuffer(b64decode(stored[name]) if n else b"", dtype).reshape((n, *shape))
        for name, (dtype, shape) in _COLUMNS.items()
        if not n or name in stored or name not in _OPTIONAL_COLUMNS
    }
    return FrameRecord(
        frame_index=data["frame_index"],
        timestamp_s=data["timestamp_s"],
        is_labeled=data["is_labeled"],
        image_file=data["image_file"],
        ignore_regions=tuple(np.asarray(p) for p in data["ignore_regions"]),
        **columns,
    )


@dataclass(frozen=True, eq=False)
class JournalEntry:
    """One operation: ``op`` in :data:`OPS`; ``frames`` are the records an ``apply`` (or the
    ``snapshot``) puts in place."""

    op: str
    description: str = ""
    frames: tuple[FrameRecord, ...] = ()

    def to_line(self) -> str:
        data: dict = {"op": self.op}
        if self.op in ("apply", "snapshot"):
            data.update(
                description=self.description, frames=[_record_to_json(r) for r in self.frames]
            )
        return json.dumps(data) + "\n"


@dataclass(frozen=True, eq=False)
class JournalContents:
    """A journal as read back.

    Attributes:
        path: the journal file.
        base: fingerprint of the poses file the edits apply to; None: they apply to empty
            frames (the journal then starts with a snapshot).
        entries: the operations, in order (a torn last line left out).
        modified_s: when the last operation was written (file mtime, seconds since the epoch).
        saved: how many leading entries the poses file already holds (a journal started after
            a save begins with the history that was saved).
    """

    path: Path
    base: dict | None
    entries: tuple[JournalEntry, ...]
    modified_s: float
    saved: int = 0

    @property
    def edit_count(self) -> int:
        """How many edits (``apply`` operations) it holds."""
        return sum(e.op == "apply" for e in self.entries)

    @property
    def unsaved_count(self) -> int:
        """How many of its edits (``apply`` operations) the poses file lacks."""
        return sum(e.op == "apply" for e in self.entries[self.saved :])

    @property
    def has_work(self) -> bool:
        """Whether replaying it gives anything the poses file lacks."""
        return any(e.op in ("apply", "snapshot") for e in self.entries)


def _entry_from_line(data: object, where: str) -> JournalEntry:
    if not isinstance(data, dict) or data.get("op") not in OPS:
        raise JournalError(f"{where}: not a journal operation")
    try:
        frames = tuple(_record_from_json(f) for f in data.get("frames", []))
        return JournalEntry(data["op"], str(data.get("description", "")), frames)
    except (KeyError, TypeError, ValueError) as exc:
        raise JournalError(f"{where}: bad frame record ({exc})") from None


def read_journal(path: str | Path) -> JournalContents:
    """Read the journal ``path``.

    Raises:
        JournalError: not a journal, or a bad line before the last.
        OSError: the file cannot be read.
    """
    path = Path(path)
    lines = path.read_bytes().split(b"\n")
    torn = lines.pop() if lines else b""  # text after the last newline: a write cut short
    if not lines:
        raise JournalError(f"{path}: empty journal" + (" (header torn)" if torn else ""))
    try:
        header = json.loads(lines[0])
    except (json.JSONDecodeError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("posetool_journal") != FORMAT_VERSION:
        raise JournalError(f"{path}: line 1: not a posetool journal header")
    entries = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            data = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise JournalError(f"{path}: line {number}: {exc}") from None
        entries.append(_entry_from_line(data, f"{path}: line {number}"))
    base = header.get("base")
    saved = header.get("saved", 0)
    saved = saved if isinstance(saved, int) and 0 <= saved <= len(entries) else 0
    return JournalContents(
        path, base if isinstance(base, dict) else None, tuple(entries), path.stat().st_mtime, saved
    )


class EditJournal:
    """An open journal, appended to as edits happen.

    Use :meth:`create`; each :meth:`append` is on disk (fsynced) when it returns.
    """

    def __init__(self, path: Path, handle) -> None:
        self.path = path
        self._handle = handle

    @classmethod
    def create(
        cls,
        path: str | Path,
        base: dict | None,
        entries: tuple[JournalEntry, ...] = (),
        saved: int = 0,
    ) -> EditJournal:
        """Start the journal ``path`` (atomically replacing any there) with a header naming
        ``base`` and the given ``entries`` (a snapshot, or the session's history), of which
        the first ``saved`` are already in ``base``."""
        path = Path(path)
        header = {
            "posetool_journal": FORMAT_VERSION,
            "base": base,
            "saved": saved,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(header) + "\n")
                fh.writelines(e.to_line() for e in entries)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return cls(path, path.open("a", encoding="utf-8"))

    def append(self, entry: JournalEntry) -> None:
        """Write ``entry`` and make it durable (flush + fsync)."""
        self._handle.write(entry.to_line())
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def remove(self) -> None:
        """Close and delete the journal (its edits are saved, or the analyst dropped them)."""
        self.close()
        self.path.unlink(missing_ok=True)


class Replayed(NamedTuple):
    """What :func:`replay` rebuilt: the result, the undo and redo stacks (last = top), and the
    snapshot frames the journal started from."""

    result: VideoResult
    undo: list[FrameEdit]
    redo: list[FrameEdit]
    snapshot: list[FrameRecord]


def replay(contents: JournalContents, start: VideoResult) -> Replayed:
    """Replay the operations of ``contents`` on ``start`` (the poses file as loaded, or empty
    frames when the journal has no base file).

    Raises:
        JournalError: an operation cannot be replayed (names the journal and the operation).
    """
    result, undo, redo, snapshot = start, [], [], []
    for n, entry in enumerate(contents.entries, start=1):
        where = f"{contents.path}: operation {n} ({entry.op})"
        if entry.op in ("undo", "redo"):
            stack, other = (undo, redo) if entry.op == "undo" else (redo, undo)
            if not stack:
                raise JournalError(f"{where}: nothing to {entry.op}")
            edit = stack.pop()
            result = edit.revert(result) if entry.op == "undo" else edit.apply(result)
            other.append(edit)
            continue
        after = {rec.frame_index: rec for rec in entry.frames}
        if any(i >= start.meta.frame_count for i in after):
            raise JournalError(f"{where}: frame {max(after)} is past the video's end")
        try:
            edit = FrameEdit(entry.description, {i: result.frames[i] for i in after}, after)
        except EditError as exc:
            raise JournalError(f"{where}: {exc}") from None
        result = edit.apply(result)
        if entry.op == "snapshot":
            snapshot.extend(entry.frames)
        else:
            undo.append(edit)
            redo.clear()
    return Replayed(result, undo, redo, snapshot)
