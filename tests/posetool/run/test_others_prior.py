"""The other persons' poses a refiner is told of (``decoder.prior_others``): which persons the
training files and the pipeline give it, and where they land in its crop."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from diffpose.config import DiffPoseConfig
from diffpose.data.priors import MAX_OTHER_PERSONS
from diffpose.data.transforms import apply_affine
from diffpose.model import DiffPose
from posetool.run.detector_priors import detections_prior, nearest_others
from posetool.run.pose_crops import crop_affines
from posetool.run.pose_estimator import PoseConfig, PoseEstimator
from tests.posetool.frames import tracked


def _poses(centres_xy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes 40×80 px around ``centres_xy`` and poses whose joints all sit at the centre,
    each person's scores its row number / 10 + 0.1."""
    centres = np.asarray(centres_xy, np.float32)
    boxes = np.concatenate([centres - [20, 40], centres + [20, 40]], axis=1)
    xy = np.repeat(centres[:, None], 17, axis=1)
    scores = np.repeat((np.arange(len(centres)) / 10 + 0.1)[:, None], 17, axis=1)
    return boxes, xy, scores.astype(np.float32)


def test_the_nearest_others_come_first_without_the_person_and_pad_with_zero_scores() -> None:
    boxes, xy, scores = _poses(
        [[100, 100], [400, 100], [130, 100], [100, 300], [700, 90], [90, 95]]
    )
    got_xy, got_scores = nearest_others(boxes[0], boxes, xy, scores, exclude=0)
    assert got_xy.shape == (MAX_OTHER_PERSONS, 17, 2)
    # by centre distance: row 5 (11 px), 2 (30), 3 (200), 1 (300); row 4 (600) is left out
    assert np.allclose(got_scores[:, 0], [0.6, 0.3, 0.4, 0.2])
    assert np.allclose(got_xy[0, 0], [90, 95])
    few_xy, few_scores = nearest_others(boxes[0], boxes[:2], xy[:2], scores[:2], exclude=0)
    assert np.allclose(few_scores[:, 0], [0.2, 0, 0, 0]) and not few_xy[1:].any()
    # a sample no detection matched: everyone detected is someone else
    _, unmatched = nearest_others(boxes[0], boxes[:2], xy[:2], scores[:2], exclude=None)
    assert np.allclose(unmatched[:, 0], [0.1, 0.2, 0, 0])
    assert not nearest_others(boxes[0], boxes[:0], xy[:0], scores[:0])[1].any()


def test_the_pipeline_tells_each_person_where_the_others_joints_lie_in_its_crop(
    monkeypatch,
) -> None:
    torch.manual_seed(0)
    cfg = DiffPoseConfig.tiny()
    model = DiffPose.from_config(
        replace(cfg, decoder=replace(cfg.decoder, prior=True, prior_others=True))
    ).eval()
    boxes, xy, scores = _poses([[100, 120], [150, 120], [400, 120]])
    seen = []
    original = model.prior_from_keypoints

    def spy(own_xy, own_scores, others_xy=None, others_scores=None):
        seen.append((own_xy.clone(), others_xy.clone(), others_scores.clone()))
        return original(own_xy, own_scores, others_xy, others_scores)

    monkeypatch.setattr(model, "prior_from_keypoints", spy)
    est = PoseEstimator(model, PoseConfig(steps=1, ensemble=1))
    frame = np.full((240, 640, 3), 90, np.uint8)
    records = []
    for i in range(3):
        records += est.push(tracked(i, frame, [1, 2, 3], boxes, np.full(3, 0.9), xy, scores))
    records += est.flush()
    assert len(records) == 3 and all(len(r.track_ids) == 3 for r in records)
    own_xy, others_xy, others_scores = seen[0]
    slots_xy, slots_scores = detections_prior(xy, scores)  # COCO → PoseTrack slots
    affines = crop_affines(boxes, est.crop_hw)
    stride = float(model.stride)
    for row in range(3):
        want = apply_affine(slots_xy[row], affines[row]) / stride
        assert np.allclose(own_xy[row].numpy(), want, atol=1e-3)
        others = [r for r in range(3) if r != row]
        others.sort(key=lambda r: abs(xy[r, 0, 0] - xy[row, 0, 0]))
        for m, r in enumerate(others):  # each other person, nearest first, in this crop
            want = apply_affine(slots_xy[r], affines[row]) / stride
            assert np.allclose(others_xy[row, m].numpy(), want, atol=1e-3)
            assert np.allclose(others_scores[row, m].numpy(), slots_scores[r])
        assert not others_scores[row, 2:].any()
