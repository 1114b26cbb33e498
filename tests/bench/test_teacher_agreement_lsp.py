"""bench/teacher_agreement_lsp.py: its table counts kept and dropped joints as its docstring
says, and the real teacher on a few LSP images gives one row per labelled joint."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.teacher_agreement_lsp import EVALUATED, table, teacher_joints
from tests.required import missing_input


def test_table_shares_of_kept_and_dropped_joints() -> None:
    inf = np.inf
    rows = np.array(
        [
            # error (head sizes), score, flip distance (box heights), slot
            (0.1, 0.9, 0.02, 9),  # right, kept by every rule
            (0.2, 0.9, 0.07, 9),  # right, dropped by 0.03 and 0.05
            (0.9, 0.9, inf, 5),  # wrong, dropped by every flip rule
            (0.9, 0.3, 0.03, 5),  # wrong, below the score: never kept
        ]
    )
    lines = table(rows).splitlines()
    assert lines[2] == "| all joints | 100.0 | 50.0 | 100.0 | — |"
    assert lines[3] == "| score ≥ 0.5 (pseudo-label's default) | 75.0 | 66.7 | 100.0 | — |"
    assert lines[4] == "| … and flip agreement ≤ 0.03 | 25.0 | 100.0 | 100.0 | 50.0 |"
    assert lines[5] == "| … and flip agreement ≤ 0.05 | 25.0 | 100.0 | 100.0 | 50.0 |"
    assert lines[6] == "| … and flip agreement ≤ 0.1 | 50.0 | 100.0 | 100.0 | 0.0 |"


def test_the_real_teacher_on_lsp_images(shared_data: Path) -> None:
    lsp = shared_data / "lsp"
    if not (lsp / "joints.mat").is_file():
        missing_input(f"{lsp}/joints.mat is absent")
    rows = teacher_joints(lsp, 5)
    assert 0 < len(rows) <= 5 * len(EVALUATED)
    assert set(rows[:, 3].astype(int)) <= set(EVALUATED)
    assert np.isfinite(rows[:, :2]).all() and (rows[:, 0] >= 0).all()
    assert (rows[:, 0] <= 0.5).mean() > 0.5  # the teacher finds most of these joints
