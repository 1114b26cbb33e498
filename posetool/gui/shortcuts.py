"""Window-wide shortcut actions made from ``(name, text, keys, slot)`` tables.

The main window and the review tools declare their actions as such tables; both are turned
into actions here, the same way, so every shortcut works wherever the focus is in the window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

__all__ = ["ActionRow", "add_window_actions"]

#: ``(name, menu text, shortcut, slot)``; ``name`` keys ``window.actions_by_name``.
ActionRow = tuple[str, str, str, Callable[[], object]]


def add_window_actions(window: QMainWindow, table: Sequence[ActionRow]) -> list[QAction]:
    """One action per row, with a window-wide shortcut, added to ``window`` and to its
    ``actions_by_name`` dict; returned in table order (for menus)."""
    actions = []
    for name, text, keys, slot in table:
        action = QAction(text, window)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        window.addAction(action)
        window.actions_by_name[name] = action
        actions.append(action)
    return actions
