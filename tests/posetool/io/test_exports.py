"""COCO and CSV exports, ``posetool export``: pycocotools loads and scores them, the CSV is
tidy, outputs are atomic and never replaced without --overwrite."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

import numpy as np
import pytest
from click.testing import CliRunner

from diffpose.keypoints import KEYPOINT_NAMES
from posetool.cli import main
from posetool.io.export_coco import coco_dict
from posetool.io.export_csv import CSV_COLUMNS, OPTIONAL_PERSON_FLAGS, csv_text
from posetool.io.exports import export_result, load_result_for_export
from posetool.io.posetrack_io import read_posetrack, write_posetrack
from posetool.records import FrameRecord, VideoMeta, VideoResult


def _result(frames: int = 4, fps: float = 10.0) -> VideoResult:
    """Two tracks walking right; track 2 edited in frame 1; its left wrist hidden in frame 2."""
    rng = np.random.default_rng(0)
    base = rng.uniform(20, 80, (17, 2)).astype(np.float32)
    records = []
    for f in range(frames):
        kp = np.stack([base + [f * 3, 0], base + [100 + f * 3, 10]])
        visible = np.ones((2, 17), bool)
        visible[:, [3, 4]] = False  # the ear placeholders
        if f == 2:
            visible[1, 9] = False
        spread = np.full((2, 17), 1.5, np.float32)
        spread[0, 0] = np.nan
        records.append(
            FrameRecord(
                frame_index=f,
                timestamp_s=f / fps,
                boxes_xyxy=[[10, 10, 90, 90], [110, 20, 190, 100]],
                box_scores=[0.9, 0.8],
                track_ids=[1, 2],
                keypoints_xy=kp,
                keypoint_scores=np.full((2, 17), 0.7),
                keypoint_spread_px=spread,
                keypoint_visible=visible,
                human_edited=[False, f == 1],
            )
        )
    meta = VideoMeta(path="clip.mp4", fps=fps, frame_count=frames, width=200, height=120)
    return VideoResult(meta, tuple(records))


def test_coco_export_loads_and_scores_perfectly_against_itself(tmp_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    path = tmp_path / "poses.coco.json"
    export_result(_result(), "coco", path)
    gt = COCO(str(path))
    assert len(gt.getImgIds()) == 4 and len(gt.getAnnIds()) == 8
    assert gt.loadCats(1)[0]["keypoints"][3] == "left_ear"
    dt = gt.loadRes(json.loads(path.read_text())["annotations"])
    ev = COCOeval(gt, dt, "keypoints")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    assert ev.stats[0] == pytest.approx(1.0)


def test_coco_keypoints_map_posetrack_slots_and_say_what_is_dropped():
    result = _result()
    data = coco_dict(result)
    assert (
        "head_top" in data["info"]["description"] and "no COCO slot" in data["info"]["description"]
    )
    ann = data["annotations"][0]
    kp = np.array(ann["keypoints"]).reshape(17, 3)
    src = result.frames[0].keypoints_xy[0]
    assert kp[0, :2] == pytest.approx(src[0], abs=1e-3) and kp[0, 2] == 2  # nose
    assert kp[9, :2] == pytest.approx(src[9], abs=1e-3)  # left wrist: same slot
    assert np.all(kp[1:5] == 0)  # eyes (no PoseTrack joint), ears (placeholders): v=0
    assert ann["num_keypoints"] == 13 and ann["id"] >= 1 and ann["track_id"] == 1
    hidden = np.array(data["annotations"][5]["keypoints"]).reshape(17, 3)  # frame 2, track 2
    assert hidden[9].tolist() == [0, 0, 0]
    assert data["annotations"][3]["human_edited"] is True  # frame 1, track 2


def test_csv_is_one_row_per_joint_with_the_issue_columns():
    rows = list(csv.DictReader(io.StringIO(csv_text(_result()))))
    assert tuple(rows[0]) == (*CSV_COLUMNS, *OPTIONAL_PERSON_FLAGS)  # records carry both flags
    assert len(rows) == 4 * 2 * 15  # 15 joints: the ear placeholders are left out
    assert {r["joint"] for r in rows} == set(KEYPOINT_NAMES) - {"left_ear", "right_ear"}
    nose = rows[0]
    assert (nose["frame"], nose["track_id"], nose["joint"], nose["spread_px"]) == (
        "0",
        "1",
        "nose",
        "",
    )
    edited = [r for r in rows if r["human_edited"] == "1"]
    assert len(edited) == 15 and {r["frame"] for r in edited} == {"1"}
    wrist = next(
        r for r in rows if (r["frame"], r["track_id"], r["joint"]) == ("2", "2", "left_wrist")
    )
    assert (wrist["visible"], wrist["x"], wrist["y"]) == ("0", "", "")
    assert float(rows[-1]["time_s"]) == pytest.approx(0.3)


@dataclass(frozen=True, eq=False)
class _FlaggedRecord(FrameRecord):
    """A record with the viewer's per-person flags."""

    interpolated: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    reviewed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


def test_csv_adds_interpolated_and_reviewed_when_the_records_carry_them():
    result = _result(frames=1)
    fr = result.frames[0]
    flagged = _FlaggedRecord(
        **{
            k: getattr(fr, k)
            for k in (
                "frame_index",
                "timestamp_s",
                "boxes_xyxy",
                "box_scores",
                "track_ids",
                "keypoints_xy",
                "keypoint_scores",
                "keypoint_visible",
            )
        },
        interpolated=np.array([True, False]),
        reviewed=np.array([False, True]),
    )
    rows = list(csv.DictReader(io.StringIO(csv_text(VideoResult(result.meta, (flagged,))))))
    assert rows[0]["interpolated"] == "1" and rows[0]["reviewed"] == "0"
    assert rows[-1]["interpolated"] == "0" and rows[-1]["reviewed"] == "1"


def test_export_never_replaces_without_overwrite_and_leaves_no_temp(tmp_path):
    out = tmp_path / "poses.csv"
    out.write_text("keep me")
    with pytest.raises(FileExistsError, match="--overwrite"):
        export_result(_result(), "csv", out)
    assert out.read_text() == "keep me"
    export_result(_result(), "csv", out, overwrite=True)
    assert out.read_text().startswith("frame,")
    assert [p.name for p in tmp_path.iterdir()] == ["poses.csv"]


def test_cli_export_formats_default_posetrack_and_refuse_existing(tmp_path):
    src = write_posetrack(_result(), tmp_path / "clip.json")
    runner = CliRunner()
    res = runner.invoke(main, ["export", str(src), "-o", str(tmp_path / "same.json")])
    assert res.exit_code == 0, res.output
    again = read_posetrack(tmp_path / "same.json")
    assert np.allclose(again.frames[1].keypoints_xy, read_posetrack(src).frames[1].keypoints_xy)
    for fmt in ("coco", "csv"):
        res = runner.invoke(
            main, ["export", str(src), "--format", fmt, "-o", str(tmp_path / f"o.{fmt}")]
        )
        assert res.exit_code == 0, res.output
    res = runner.invoke(
        main, ["export", str(src), "--format", "csv", "-o", str(tmp_path / "o.csv")]
    )
    assert res.exit_code != 0 and "exists" in res.output and "--overwrite" in res.output
    res = runner.invoke(
        main,
        [
            "export",
            str(src),
            "--format",
            "csv",
            "-o",
            str(tmp_path / "o.csv"),
            "--overwrite",
            "--smooth",
            "savgol",
            "--window",
            "3",
            "--order",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output


def test_export_times_frames_by_the_video_named_in_the_summary(tmp_path):
    import cv2

    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 5.0, (64, 48))
    for _ in range(4):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    src = write_posetrack(_result(), tmp_path / "clip.json")
    (tmp_path / "clip.summary.json").write_text(json.dumps({"input": str(video)}))
    loaded = load_result_for_export(src)
    assert loaded.meta.fps == pytest.approx(5.0)
    assert (loaded.meta.width, loaded.meta.height) == (64, 48)
    assert loaded.frames[2].timestamp_s == pytest.approx(0.4)


def test_the_video_beside_a_viewer_saved_result_is_found(tmp_path):
    from posetool.io.exports import video_of_result

    src = write_posetrack(_result(), tmp_path / "clip.json")
    assert video_of_result(src) is None
    (tmp_path / "clip.mp4").write_bytes(b"")
    assert video_of_result(src) == tmp_path / "clip.mp4"
