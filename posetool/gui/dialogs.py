"""The questions the viewer asks the analyst about their work: unsaved changes on close or
open, and recovering the edits a crashed session left in its journal.

The main window takes these as callables so tests answer them without a dialog.
"""

from __future__ import annotations

import time

from PySide6.QtWidgets import QMessageBox, QWidget

from posetool.gui.journal import JournalContents

__all__ = ["ask_recover", "ask_unsaved", "recovery_question"]


def ask_unsaved(parent: QWidget) -> str:
    """Ask what to do with unsaved changes: "save", "discard" or "cancel"."""
    buttons = (
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel
    )
    answer = QMessageBox.warning(
        parent, "Unsaved changes", "The poses have unsaved changes. Save them first?", buttons
    )
    return {
        QMessageBox.StandardButton.Save: "save",
        QMessageBox.StandardButton.Discard: "discard",
    }.get(answer, "cancel")


def recovery_question(contents: JournalContents, base_changed: bool) -> str:
    """The text offering to recover the edits of the journal ``contents``."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(contents.modified_s))
    count = contents.unsaved_count
    what = f"{count} edit(s)" if count else "a pipeline result"
    text = (
        f"{what} made until {when} were not saved (the viewer did not close normally).\n"
        f"Recover them from {contents.path}?\n\n"
        "No keeps the journal aside, renamed, and opens the poses as saved."
    )
    if base_changed:
        text += (
            "\n\nThe poses file changed since these edits were made: recovering puts the "
            "edited frames over its current content."
        )
    return text


def ask_recover(parent: QWidget, text: str) -> bool:
    """Ask whether to recover unsaved edits (``text`` from :func:`recovery_question`)."""
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    answer = QMessageBox.question(
        parent, "Recover unsaved edits?", text, buttons, QMessageBox.StandardButton.Yes
    )
    return answer == QMessageBox.StandardButton.Yes
