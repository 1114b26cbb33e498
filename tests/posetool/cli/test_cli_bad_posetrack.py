"""``posetool eval`` and ``posetool render`` on malformed PoseTrack files: one clear line
naming the file and the field, a non-zero exit code, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from posetool.cli import main


def _annotation(**changes) -> dict:
    ann = {
        "image_id": 0,
        "id": 0,
        "track_id": 1,
        "keypoints": [10.0, 20.0, 1.0] * 17,
        "scores": [0.9] * 17,
        "bbox": [5.0, 5.0, 30.0, 40.0],
    }
    return {**ann, **changes}


def _posetrack(annotations: list) -> dict:
    images = [{"id": i, "file_name": f"clip/{i:06d}.jpg"} for i in range(3)]
    return {"images": images, "annotations": annotations}


def _deep(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


# (name, JSON text, the field named in the message)
CASES = [
    (
        "nan",
        json.dumps(_posetrack([_annotation(keypoints=[float("nan")] + [1.0] * 50)])),
        "annotations[0].keypoints[0]",
    ),
    ("infinity", json.dumps(_posetrack([_annotation(score=float("inf"))])), "annotations[0].score"),
    (
        "beyond_float32",
        json.dumps(_posetrack([_annotation(bbox=[1.0, 2.0, 1e39, 4.0])])),
        "annotations[0].bbox[2]",
    ),
    (
        "huge_literal",
        json.dumps(_posetrack([_annotation()])).replace("20.0", "1e400", 1),
        "annotations[0].keypoints[1]",
    ),
    ("annotation_is_a_list", json.dumps(_posetrack([[1, 2, 3]])), "annotations[0]"),
    ("annotation_is_a_string", json.dumps(_posetrack(["person"])), "annotations[0]"),
    ("image_is_a_number", json.dumps({"images": [7], "annotations": []}), "images[0]"),
    (
        "track_id_is_text",
        json.dumps(_posetrack([_annotation(track_id="abc")])),
        "annotations[0].track_id",
    ),
    ("deep_nesting", json.dumps(_posetrack([_annotation(note=_deep(100))])), "annotations[0].note"),
    ("too_deep_to_parse", '{"images": ' + "[" * 100_000 + "]" * 100_000 + "}", "<file>"),
]


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("gt") / "clip.json"
    path.write_text(json.dumps(_posetrack([_annotation()])))
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for _ in range(3):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    return path


def _bad_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("name", "text", "field"), CASES, ids=[c[0] for c in CASES])
def test_eval_names_file_and_field(good, tmp_path, name, text, field) -> None:
    bad = _bad_file(tmp_path, name, text)
    for args in ([good, bad], [bad, good]):  # as predictions and as ground truth
        res = CliRunner().invoke(main, ["eval", *map(str, args)])
        assert res.exit_code == 1, res.output
        assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
        assert f"{bad}: {field}" in res.output, res.output
        assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


@pytest.mark.parametrize(("name", "text", "field"), CASES, ids=[c[0] for c in CASES])
def test_render_names_file_and_field(video, tmp_path, name, text, field) -> None:
    bad = _bad_file(tmp_path, name, text)
    out = tmp_path / "overlay.mp4"
    res = CliRunner().invoke(main, ["render", str(video), str(bad), "-o", str(out)])
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert f"{bad}: {field}" in res.output and "Traceback" not in res.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"keypoint_spread_px": ["wide"] * 17}, "keypoint_spread_px"),
        ({"keypoint_spread_px": [1.0] * 3}, "keypoint_spread_px"),
        ({"human_edited": "yes"}, "human_edited"),
    ],
)
def test_render_rejects_bad_extras(video, tmp_path, extra, field) -> None:
    bad = _bad_file(tmp_path, "extras", json.dumps(_posetrack([_annotation(**extra)])))
    res = CliRunner().invoke(main, ["render", str(video), str(bad), "-o", str(tmp_path / "o.mp4")])
    assert res.exit_code == 1 and str(bad) in res.output and field in res.output, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_render_refuses_to_write_over_its_input(video, good) -> None:
    before = video.read_bytes()
    res = CliRunner().invoke(main, ["render", str(video), str(good), "-o", str(video)])
    assert res.exit_code == 1 and "is the input" in res.output
    assert video.read_bytes() == before
