"""bench/paired_bootstrap.py and bench/photos_paired.py: paired comparisons of two models on
the hand-labelled video check and the multi-person photos."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import numpy as np
import pytest

from bench.own_video_check import ground_truth, labelled_frames
from bench.paired_bootstrap import main as bootstrap_main
from diffpose.posetrack_writer import to_posetrack18

FOOTBALL = "000001_mpiinew_test"


def _write_rows(tmp_path, shift_px: float):
    """Row "label" = the football labels as a perfect prediction; row "moved" = the same with
    every left wrist moved ``shift_px`` to the right."""
    n = max(labelled_frames(FOOTBALL)) + 1
    gt = ground_truth(FOOTBALL, n)
    perfect = replace(
        gt,
        frames=tuple(
            replace(
                f,
                keypoint_scores=np.ones(f.keypoints.shape[:2]),
                track_ids=np.arange(f.num_persons),
                person_scores=np.ones(f.num_persons),
            )
            for f in gt.frames
        ),
    )
    moved_kp = np.zeros(perfect.frames[0].keypoints.shape[1:])
    moved_kp[9] = (shift_px, 0.0, 0.0)  # left_wrist
    moved = replace(
        perfect,
        frames=tuple(replace(f, keypoints=f.keypoints + moved_kp) for f in perfect.frames),
    )
    for row, video in (("label", perfect), ("moved", moved)):
        (tmp_path / row).mkdir()
        (tmp_path / row / f"{FOOTBALL}.json").write_text(json.dumps(to_posetrack18(video)))


def _run(monkeypatch, capsys, *args) -> str:
    monkeypatch.setattr(sys, "argv", ["paired_bootstrap.py", *args])
    bootstrap_main()
    return capsys.readouterr().out


def test_moved_wrists_show_in_the_wrist_row_only(tmp_path, monkeypatch, capsys):
    _write_rows(tmp_path, shift_px=200.0)
    out = _run(
        monkeypatch,
        capsys,
        *("--preds", str(tmp_path), "--a", "label", "--b", "moved", "--video", FOOTBALL),
        *("--max-gap", "0", "--samples", "200"),
    )
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert "5 labelled frames" in out and "5 resampled units" in out
    wrist = [cell.strip() for cell in rows["Wrist"].split("|")[1:-1]]
    assert wrist[1] == "100.0" and float(wrist[2]) < 100.0  # A perfect, B lost the left wrists
    assert float(wrist[3]) > 0 and wrist[5] == "0 %"  # A never below B
    elbow = [cell.strip() for cell in rows["Elbow"].split("|")[1:-1]]
    assert elbow[3] == "+0.0" and elbow[4] == "[+0.0, +0.0]"


def test_the_football_frames_form_one_unit_at_the_default_gap(tmp_path, monkeypatch, capsys):
    _write_rows(tmp_path, shift_px=200.0)
    out = _run(
        monkeypatch,
        capsys,
        *("--preds", str(tmp_path), "--a", "label", "--b", "moved", "--video", FOOTBALL),
        *("--samples", "20"),
    )
    assert "1 resampled units" in out  # frames 0, 2, 4, 6, 8: one scene


def test_a_missing_row_or_video_is_named(tmp_path, monkeypatch, capsys):
    _write_rows(tmp_path, shift_px=200.0)
    with pytest.raises(SystemExit, match="nothing.*missing"):
        _run(monkeypatch, capsys, "--preds", str(tmp_path), "--a", "nothing", "--b", "label")
    with pytest.raises(SystemExit, match="not a video"):
        _run(monkeypatch, capsys, "--a", "label", "--b", "moved", "--video", "elsewhere")


def test_sign_test_hand_values():
    from bench.photos_paired import sign_test_p

    assert sign_test_p(0, 0) == 1.0
    assert sign_test_p(3, 3) == 1.0
    assert sign_test_p(0, 5) == pytest.approx(2 / 32)  # 5 of 5 one way: 2 * 1/32
    assert sign_test_p(1, 4) == pytest.approx(2 * 6 / 32)
    assert sign_test_p(4, 1) == sign_test_p(1, 4)
