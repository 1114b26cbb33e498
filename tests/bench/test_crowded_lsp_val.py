"""bench/crowded_lsp_val.py: its PCKh cells count what its docstring says, and on a few real LSP
val persons it builds the crowded set and both priors and prints every row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.crowded_lsp_val import GROUPS, main, pckh_cells
from diffpose.data.samples import PoseSample
from diffpose.keypoints import KEYPOINT_NAMES, NUM_KEYPOINTS
from tests.required import missing_input, require_models

SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "diffpose_cpu.safetensors"


def _sample(weights: np.ndarray) -> PoseSample:
    kp = np.zeros((NUM_KEYPOINTS, 2))
    kp[KEYPOINT_NAMES.index("head_top")] = (0.0, 0.0)
    kp[KEYPOINT_NAMES.index("head_bottom")] = (0.0, 10.0)  # head size 10 px
    return PoseSample(("x.jpg",), kp, weights, np.array([0.0, 0.0, 10.0, 10.0]))


def test_cells_count_joints_within_half_a_head() -> None:
    weights = np.ones(NUM_KEYPOINTS)
    weights[[3, 4]] = 0  # ears: unlabelled, never counted
    sample = _sample(weights)
    pred = sample.keypoints_xy.copy()
    pred[KEYPOINT_NAMES.index("left_wrist")] += (6.0, 0.0)  # 0.6 heads: wrong
    pred[KEYPOINT_NAMES.index("right_wrist")] += (0.0, 4.0)  # 0.4 heads: right
    cells = pckh_cells(pred[None], [sample])
    names = [*GROUPS, "Limbs", "Total"]
    by_name = dict(zip(names, cells, strict=True))
    assert by_name["Wrist"] == 50.0
    assert by_name["Elbow"] == 100.0
    assert by_name["Limbs"] == pytest.approx(100.0 * 7 / 8)
    assert by_name["Total"] == pytest.approx(100.0 * 14 / 15)


def test_the_real_sets_and_models(shared_data: Path, tmp_path: Path, capsys) -> None:
    lsp = shared_data / "lsp"
    if not (lsp / "joints.mat").is_file():
        missing_input(f"{lsp}/joints.mat is absent")
    require_models()
    args = ["--lsp", str(lsp), "--work", str(tmp_path), "--limit", "3"]
    main([*args, "--variant", f"shipped={SHIPPED}"])
    out = capsys.readouterr().out
    assert "LSP val (as is) (3 persons)" in out
    assert "a second person pasted beside each (3 persons)" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "model" not in line]
    assert len(rows) == 6  # peer, crop prior, shipped; twice
    for row in rows:
        cells = [float(c) for c in row.strip("|").split("|")[1:]]
        assert len(cells) == len(GROUPS) + 2
        assert np.isfinite(cells[-1]) and np.isfinite(cells[-2])  # limbs and total
        assert all(0.0 <= c <= 100.0 for c in cells if not np.isnan(c))
    assert rows[2].startswith("| shipped |") and rows[5].startswith("| shipped |")
    files = sorted(p.name for p in tmp_path.glob("priors_*.npz"))
    assert len(files) == 4
    # a second run reuses the composites and the priors, and prints the same rows
    main(args)
    again = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert [r for r in again if "shipped" not in r and "model" not in r] == [
        r for r in rows if "shipped" not in r
    ]
    assert sorted(p.name for p in tmp_path.glob("priors_*.npz")) == files
    # another --limit is another set of persons: its own prior files
    main(["--lsp", str(lsp), "--work", str(tmp_path), "--limit", "2"])
    capsys.readouterr()
    assert len(list(tmp_path.glob("priors_*.npz"))) == 8
