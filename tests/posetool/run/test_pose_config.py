"""Pose settings and the checkpoint lookup, without loading a model."""

from __future__ import annotations

import pytest

from posetool.run.pose_config import (
    CheckpointNotFoundError,
    PoseConfig,
    default_checkpoint_path,
    load_pose_model,
)


def test_missing_checkpoint_is_a_typed_error_naming_the_file(tmp_path) -> None:
    missing = tmp_path / "gone.safetensors"
    with pytest.raises(CheckpointNotFoundError, match="gone.safetensors") as info:
        load_pose_model(PoseConfig(checkpoint=str(missing)))
    assert isinstance(info.value, FileNotFoundError)  # callers catching that still do


def test_presets_pick_their_shipped_file() -> None:
    assert default_checkpoint_path("refine").name == "diffpose_cpu.safetensors"
    assert PoseConfig(preset="paper").checkpoint_path().name == "diffpose_cpu_paper.safetensors"
    with pytest.raises(ValueError, match="preset"):
        PoseConfig(preset="nope")


def test_duplicate_oks_is_a_similarity_below_one() -> None:
    assert PoseConfig().duplicate_oks == 0.5
    assert PoseConfig(duplicate_oks=0.0).duplicate_oks == 0.0  # off
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="duplicate_oks"):
            PoseConfig(duplicate_oks=bad)


def test_heatmap_decoding_is_quarter_or_dark() -> None:
    assert PoseConfig().heatmap_decoding == "dark"  # chosen on validation (MODEL_CARD.md)
    assert PoseConfig(heatmap_decoding="quarter").heatmap_decoding == "quarter"
    with pytest.raises(ValueError, match="heatmap_decoding"):
        PoseConfig(heatmap_decoding="soft-argmax")


def test_prior_score_weight_is_in_zero_one() -> None:
    assert PoseConfig().prior_score_weight == 0.5  # chosen on validation (MODEL_CARD.md)
    assert PoseConfig(prior_score_weight=0.0).prior_score_weight == 0.0  # the paper's rule
    for bad in (-0.1, 1.1):
        with pytest.raises(ValueError, match="prior_score_weight"):
            PoseConfig(prior_score_weight=bad)
