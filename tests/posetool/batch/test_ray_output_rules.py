"""``--engine ray`` follows the local batch's output rules (posetool.batch.runner), applied by the driver
before anything reaches the cluster: names, no output replacing an input, foreign or edited
outputs kept without ``--overwrite``, ``--resume``; and the CLI hands both engines the same
options. Ray is made unimportable here, so any attempt to reach a cluster would fail the test:
none of these runs needs one (the Ray head runs are in test_ray_engine.py)."""

from __future__ import annotations

import errno
import json
import pickle
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from posetool.batch.ray_engine import run_batch_ray
from posetool.batch.runner import OutputConflictError, OutputFolderError
from posetool.cli import main
from posetool.run.pipeline_config import PipelineConfig


@pytest.fixture
def no_ray(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError


def _input(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"a video; never opened: its outputs are kept before it would run")
    return path


def _edited_posetrack(path: Path) -> str:
    ann = {"image_id": 0, "id": 0, "track_id": 1, "keypoints": [1.0] * 51, "human_edited": True}
    text = json.dumps({"images": [{"id": 0, "file_name": "a/000000.jpg"}], "annotations": [ann]})
    path.write_text(text)
    return text


def test_edited_and_foreign_outputs_are_kept_on_the_driver(no_ray, tmp_path) -> None:
    a, b = _input(tmp_path / "in" / "a.mp4"), _input(tmp_path / "in" / "b.mp4")
    out = tmp_path / "out"
    out.mkdir()
    edited = _edited_posetrack(out / "a.json")
    (out / "b.json").write_text('{"mine": 1}')
    batch = run_batch_ray([a, b], out, PipelineConfig())
    assert [(v.name, v.status) for v in batch.videos] == [("a", "refused"), ("b", "refused")]
    assert "edited by hand" in batch.videos[0].error and "--overwrite" in batch.videos[0].error
    assert "not written by posetool" in batch.videos[1].error
    assert (out / "a.json").read_text() == edited and (out / "b.json").read_text() == '{"mine": 1}'
    run = json.loads((out / "run_summary.json").read_text())
    assert run["refused"] == 2 and run["posetool"]["kind"] == "run-summary"
    assert (out / "config.yaml").read_text().startswith("# written by posetool")


def test_outputs_never_replace_inputs_or_foreign_run_files(no_ray, tmp_path) -> None:
    notes = tmp_path / "notes.json"  # named explicitly: an input whatever its suffix
    notes.write_text("{}")
    with pytest.raises(OutputConflictError, match="notes.json"):
        run_batch_ray([notes], tmp_path, PipelineConfig())
    assert notes.read_text() == "{}"
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.yaml").write_text("pose:\n  steps: 1\n")
    with pytest.raises(OutputConflictError, match="config.yaml was not written by posetool"):
        run_batch_ray([_input(tmp_path / "in" / "x.mp4")], mine, PipelineConfig())
    assert (mine / "config.yaml").read_text() == "pose:\n  steps: 1\n"


def test_cli_gives_the_ray_engine_the_local_options(tmp_path, monkeypatch) -> None:
    import posetool.batch.ray_engine
    from posetool.batch.summaries import BatchSummary

    seen: dict = {}

    def fake_run(paths, out_dir, config, **options):
        seen.update(options)
        return BatchSummary()

    monkeypatch.setattr(posetool.batch.ray_engine, "run_batch_ray", fake_run)
    src = _input(tmp_path / "in" / "x.mp4")
    args = [
        "run",
        str(src),
        "-o",
        str(tmp_path / "out"),
        "--engine",
        "ray",
        "--resume",
        "--overwrite",
        "--trust-detector-weights",
    ]
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert {k: seen[k] for k in ("resume", "overwrite", "trust_detector_weights")} == {
        "resume": True,
        "overwrite": True,
        "trust_detector_weights": True,
    }


def test_errors_that_stop_a_run_survive_the_trip_from_a_worker() -> None:
    """A worker's setup or folder error reaches the driver pickled, as itself."""
    from diffpose.yolo_weights import WeightsError
    from posetool.run.pose_config import CheckpointNotFoundError
    from posetool.run.weights import UntrustedWeightsError

    for error in (
        UntrustedWeightsError("/w/best.pt", "not the official file"),
        WeightsError(None, "not installed"),
        CheckpointNotFoundError("DiffPose checkpoint 'x.safetensors' not found"),
        OutputFolderError(errno.ENOSPC, "the output folder takes no more files"),
    ):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error)
    full = pickle.loads(pickle.dumps(OutputFolderError(errno.ENOSPC, "no space")))
    assert str(full.after(2, 5)) == "[Errno 28] stopped after 2 of 5 inputs: no space"
