"""Opening, saving and exporting the analyst's work so that no failure loses an edit.

Every error around these is caught and shown, and the session (with its edits) stays: a bad
poses file is a message naming the file and the field, not a dead viewer; a failed save writes
a recovery copy and says where; Save chosen on close keeps the window open if it fails; a
journal left by a session that did not close normally is offered back when its poses are
opened (declined or unreadable journals are renamed aside, never deleted).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QWidget

from posetool.gui import journal, media
from posetool.gui.dialogs import recovery_question
from posetool.gui.session import AnnotationSession, UncertaintyThresholds

__all__ = ["FileActions"]

_LOG = logging.getLogger(__name__)


#: The viewer before the journal autosaved every 5 edits or 30 s to ``NAME.json`` + this.
LEGACY_AUTOSAVE_SUFFIX = ".autosave.json"


def _newer(path: Path, than: Path) -> bool:
    return not than.exists() or path.stat().st_mtime_ns > than.stat().st_mtime_ns


class FileActions:
    """The window's file operations, each safe against any failure.

    Args:
        parent: the window the questions are asked over.
        inform: shows a message: ``inform(title, text)``.
        status: shows a line in the status bar.
        confirm_unsaved: "save", "discard" or "cancel" for unsaved changes.
        confirm_recover: True to recover a journal's edits (gets the question's text).
    """

    def __init__(
        self,
        parent: QWidget,
        inform: Callable[[str, str], None],
        status: Callable[[str], None],
        confirm_unsaved: Callable[[QWidget], str],
        confirm_recover: Callable[[QWidget, str], bool],
    ) -> None:
        self._parent = parent
        self._inform = inform
        self._status = status
        self._confirm_unsaved = confirm_unsaved
        self._confirm_recover = confirm_recover

    def open(
        self, video: Path, poses: str | Path | None, thresholds: UncertaintyThresholds
    ) -> AnnotationSession | None:
        """A session on ``video`` with its poses (``poses``, else the JSON beside it, else
        none yet); None, the reason shown, if either cannot be opened."""
        try:
            meta = media.probe_video(video)
            json_path = Path(poses) if poses else media.find_poses_json(video)
            if json_path is None:  # poses made for it (`posetool run --frames`) open as given
                media.refuse_photo_folder(video)
            json_path = json_path or media.default_json_path(video)
            return AnnotationSession.open(meta, json_path, thresholds=thresholds)
        except Exception as exc:  # noqa: BLE001 - whatever it is, say it and keep the window
            _LOG.warning("could not open %s: %s", video, exc, exc_info=True)
            self._inform("Could not open", f"{video}:\n{exc}")
            return None

    def _keep_aside(self, path: Path, why: str) -> str:
        try:
            return f"kept as {journal.set_aside(path, why)}"
        except OSError as exc:
            return f"left at {path} ({exc})"

    def offer_recovery(self, session: AnnotationSession) -> None:
        """Offer back the edits a session on the same poses left in its journal (and point
        to an autosave sidecar of the viewer before the journal, newer than the poses)."""
        if session.json_path is None:
            return
        legacy = session.json_path.with_name(session.json_path.name + LEGACY_AUTOSAVE_SUFFIX)
        if legacy.is_file() and _newer(legacy, session.json_path):
            self._inform(
                "Older autosave found",
                f"{legacy} holds unsaved edits of an older posetool viewer. Open it "
                "as the poses file (File > Open, then choose it) to recover them.",
            )
        path = journal.journal_path(session.json_path)
        try:
            contents = session.find_journal()
        except Exception as exc:  # noqa: BLE001 - an unreadable journal is kept, not lost
            self._inform(
                "Unsaved edits not recovered",
                f"{exc}\nThe journal is {self._keep_aside(path, 'unreadable')}.",
            )
            return
        if contents is None:
            return
        question = recovery_question(contents, session.journal_base_changed(contents))
        if not self._confirm_recover(self._parent, question):
            self._status(f"Unsaved edits {self._keep_aside(path, 'declined')}")
            return
        try:
            count = session.recover(contents)
        except Exception as exc:  # noqa: BLE001 - the session is unchanged, the journal kept
            self._inform(
                "Unsaved edits not recovered",
                f"{exc}\nThe journal is {self._keep_aside(path, 'unreadable')}.",
            )
            return
        self._status(f"Recovered {count} unsaved edit(s) from {contents.path}")

    def start_unsaved(self, session: AnnotationSession) -> None:
        """Journal a result that is not on disk (fresh from the pipeline) at once; a journal
        a crash left at its place is renamed aside first."""
        stale = journal.journal_path(session.json_path)
        if stale.is_file():
            self._status(f"Earlier unsaved edits {self._keep_aside(stale, 'superseded')}")
        session.mark_unsaved()

    def save(self, session: AnnotationSession) -> bool:
        """Save to the session's file; on failure say why and where a recovery copy went.
        Returns whether it saved."""
        try:
            path = session.save()
        except Exception as exc:  # noqa: BLE001 - any failure keeps the window and the edits
            _LOG.warning("saving failed: %s", exc, exc_info=True)
            self._inform("Save failed", f"{exc}\n\n{self._recovery_note(session)}")
            return False
        extra = f" (the original is kept as {session.backup.name})" if session.backup else ""
        self._status(f"Saved {path}{extra}")
        return True

    def _recovery_note(self, session: AnnotationSession) -> str:
        """Write a recovery copy of the poses and say where (or why that failed too)."""
        try:
            copy = session.write_recovery_copy()
        except Exception as exc:  # noqa: BLE001
            _LOG.error("no recovery copy: %s", exc)
            return (
                f"Your edits are still open here, but no recovery copy could be written "
                f"({exc}). Use Export to write them elsewhere."
            )
        return (
            f"Your edits are still open here, and a copy was written to\n{copy}\n"
            "Use Export to write them elsewhere."
        )

    def export(self, session: AnnotationSession, path: str | Path, fmt: str) -> bool:
        """Export a copy; a failure is shown. Returns whether it was written."""
        try:
            written = session.export(path, fmt=fmt)
        except Exception as exc:  # noqa: BLE001
            _LOG.warning("export failed: %s", exc, exc_info=True)
            self._inform("Export failed", f"{path}:\n{exc}")
            return False
        self._status(f"Exported {written}")
        return True

    def may_end(self, session: AnnotationSession | None) -> str | None:
        """Whether ``session`` may end: "clean" (nothing unsaved), "save" (saved now) or
        "discard" (the analyst drops the edits); None: it stays (cancelled, or the save
        failed, or something else went wrong, shown)."""
        try:
            if session is None or not session.dirty:
                return "clean"
            answer = self._confirm_unsaved(self._parent)
            if answer == "save":
                return "save" if self.save(session) else None
            return "discard" if answer == "discard" else None
        except Exception as exc:  # noqa: BLE001 - unsure the edits are safe: keep them open
            _LOG.error("cannot end the session: %s", exc, exc_info=True)
            self._inform("Unsaved changes", f"{exc}\nThe poses stay open with your edits.")
            return None

    @staticmethod
    def retire(session: AnnotationSession | None, answer: str) -> None:
        """End ``session`` after :meth:`may_end` said ``answer``: on "discard" its journal
        goes; otherwise it is kept while anything is unsaved."""
        if session is not None:
            if answer == "discard":
                session.discard_journal()
            session.close()
