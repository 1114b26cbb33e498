"""The poses file the viewer opens and saves (Qt-free): strict loading with errors naming the
file and field, frames placed by image id, Save keeping what it does not understand, the
backup of the original, recovery copies."""

from __future__ import annotations

import json

import numpy as np
import pytest

from diffpose.keypoints import KEYPOINT_NAMES
from diffpose.posetrack_format import PoseTrackFormatError
from posetool.gui import edits
from posetool.gui.pose_file import backup_path, load_poses, write_recovery_copy
from posetool.gui.session import AnnotationSession
from posetool.records import VideoMeta


def _kp(x0: float) -> list[float]:
    return [v for k in range(17) for v in (x0 + k, 10.0 + 2 * k, 1)]


def _foreign_file() -> dict:
    """A 2018 file as another tool writes it: images listed out of order, keys posetool does
    not know, its own annotation ids, a person without scores or bbox."""
    images = [
        {"id": 2, "file_name": "images/cam/000002.jpg", "mask_file": "m2.png", "width": 320},
        {"id": 0, "file_name": "images/cam/000000.jpg", "mask_file": "m0.png", "nframes": 40},
        {"id": 1, "file_name": "images/cam/000001.jpg", "mask_file": "m1.png"},
    ]
    # one annotation per row, read across rows: kept out of the formatter
    anns = [
        {"id": 9002, "image_id": 2, "track_id": 7, "category_id": 1, "keypoints": _kp(200),
         "scores": [0.5] * 17, "score": 0.61, "bbox": [190, 5, 40, 50], "reviewer": "ann"},
        {"id": 9000, "image_id": 0, "track_id": 7, "category_id": 1, "keypoints": _kp(100),
         "scores": [0.25] * 17, "score": 0.71, "bbox": [90, 5, 40, 50], "iscrowd": 0},
        {"id": 9001, "image_id": 1, "track_id": 7, "category_id": 1, "keypoints": _kp(150),
         "scores": [0.75] * 17, "score": 0.81, "bbox": [140, 5, 40, 50], "reviewer": "bob"},
        {"id": 9011, "image_id": 1, "track_id": 8, "category_id": 1, "keypoints": _kp(20),
         "iscrowd": 1},
    ]  # fmt: skip
    return {
        "images": images,
        "annotations": anns,
        "categories": [{"id": 1, "name": "person", "keypoints": list(KEYPOINT_NAMES)}],
    }


def _meta(frames: int) -> VideoMeta:
    return VideoMeta(path="cam.mp4", fps=10, frame_count=frames, width=320, height=240)


def test_save_keeps_unknown_keys_ids_scores_and_places_frames_by_id(tmp_path):
    path = tmp_path / "cam.json"
    original = _foreign_file()
    path.write_text(json.dumps(original))
    session = AnnotationSession.open(_meta(4), path)
    assert session.notes == ("cam.json has poses for 3 frames, the video has 4",)
    xs = [
        float(fr.keypoints_xy[0, 0, 0]) if fr.num_persons else None for fr in session.result.frames
    ]
    assert xs == [100.0, 150.0, 200.0, None]  # by image id, not by position in the file

    session.apply(edits.move_keypoint(session.result, 1, 7, 5, (1.0, 2.0)))
    session.apply(edits.reassign_track(session.result, 1, 8, 3))  # only renames
    session.save()
    saved = json.loads(path.read_text())
    images = {img["id"]: img for img in saved["images"]}
    for img in original["images"]:
        assert {k: images[img["id"]][k] for k in img} == img  # unknown keys and ids kept
    assert len(images) == 4 and len(set(images)) == 4  # the frame the file lacked: a new id
    anns = {a["id"]: a for a in saved["annotations"]}
    for ann in original["annotations"]:
        if ann["id"] in (9000, 9002):  # frames not edited: as they were
            assert {k: anns[ann["id"]][k] for k in ann} == ann
    moved = anns[9001]
    assert moved["reviewer"] == "bob" and moved["human_edited"] is True
    assert moved["score"] == 0.81 and moved["bbox"] == [140, 5, 40, 50]
    assert moved["scores"][5] == 1.0 and moved["scores"][:5] == [0.75] * 5
    assert moved["keypoints"][15:18] == [1.0, 2.0, 1.0]
    renamed = anns[9011]
    assert renamed["track_id"] == 3 and renamed["iscrowd"] == 1 and renamed["human_edited"]
    assert "scores" not in renamed and "bbox" not in renamed  # it had none, pose unchanged

    backup = backup_path(path)
    assert json.loads(backup.read_text()) == original  # the first save kept the original
    session.apply(edits.delete_person(session.result, 0, 7))
    session.save()
    assert json.loads(backup.read_text()) == original  # never overwritten


def test_image_ids_that_are_not_frame_numbers_fall_back_to_file_order(tmp_path):
    path = tmp_path / "cam.json"
    data = _foreign_file()
    for img, new_id in zip(data["images"], (5003, 5001, 5002), strict=True):
        for ann in data["annotations"]:
            ann["image_id"] = new_id if ann["image_id"] == img["id"] else ann["image_id"]
        img["id"] = new_id
    path.write_text(json.dumps(data))
    loaded = load_poses(path, _meta(3))
    assert "matched by their order" in loaded.notes[0] and len(loaded.notes) == 1
    assert loaded.result.frames[0].keypoints_xy[0, 0, 0] == 200.0


def _with(data: dict, change) -> str:
    change(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        (json.dumps(_foreign_file()).replace("[0.5, 0.5", "[NaN, 0.5", 1), "<file>", "NaN"),
        (
            json.dumps(_foreign_file()).replace('"score": 0.61', '"score": Infinity'),
            "<file>",
            "Infinity",
        ),
        (
            json.dumps(_foreign_file()).replace("[190, 5", "[1e39, 5"),
            "annotations[0].bbox",
            "beyond the float32 range",
        ),
        (
            json.dumps(_foreign_file()).replace("[190, 5", "[1e999, 5"),
            "annotations[0].bbox",
            "not a finite number",
        ),
        (
            _with(_foreign_file(), lambda d: d["annotations"].append(7)),
            "annotations[4]",
            "expected an object",
        ),
        (
            _with(_foreign_file(), lambda d: d["annotations"][3].update(track_id=7)),
            "annotations",
            "unique",
        ),
        ('{"images": ' + "[" * 100_000 + "]" * 100_000 + "}", "<file>", "nested too deeply"),
    ],
)
def test_bad_files_name_the_file_and_the_field(tmp_path, text, field, problem):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(PoseTrackFormatError, match=problem) as info:
        load_poses(path, _meta(3))
    assert info.value.source == str(path) and field in info.value.field_path


def test_recovery_copy_goes_where_it_can(tmp_path, monkeypatch):
    path = tmp_path / "cam.json"
    path.write_text(json.dumps(_foreign_file()))
    session = AnnotationSession.open(_meta(3), path)
    session.apply(edits.move_keypoint(session.result, 0, 7, 0, (3.0, 4.0)))
    beside = session.write_recovery_copy()
    assert beside.parent == tmp_path and beside.name.startswith("cam.json.recovered-")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    gone = tmp_path / "gone" / "cam.json"  # its folder vanished
    copy = write_recovery_copy(session.result, gone, session.source)
    assert copy.parent == tmp_path / "state" / "posetool" / "recovery"
    back = load_poses(copy, _meta(3)).result
    np.testing.assert_allclose(back.frames[0].keypoints_xy[0, 0], [3.0, 4.0])
