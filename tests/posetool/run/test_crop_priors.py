"""The crop prior in image pixels (posetool.run.crop_priors) and in the pipeline: a refiner with
``decoder.prior_source == "crop"`` is given the Pose head's pose on the person's own crop, and
the whole-frame detection's only where the head finds no one."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch

from diffpose.backbones import build_yolo_backbone
from diffpose.config import DiffPoseConfig
from diffpose.data.lsp import load_lsp
from diffpose.keypoints import COCO17_SHARED_EVALUATED
from diffpose.model import DiffPose
from posetool.run.crop_priors import (
    choose_prior,
    crop_px_per_image_px,
    crop_sees_more,
    large_crop_priors,
    resized_crop_priors,
    scale_reaching_crop_px,
)
from posetool.run.pipeline_config import PipelineConfig
from posetool.run.pose_crops import crop_affines
from posetool.run.pose_estimator import PoseConfig, PoseEstimator
from posetool.training.crop_prior_files import sample_crop_priors
from tests.posetool.frames import tracked
from tests.required import missing_input

SHARED = list(COCO17_SHARED_EVALUATED)


@pytest.fixture(scope="module")
def lsp_person(shared_data):
    sample = load_lsp(shared_data / "lsp", "test", 0)[0]
    image = cv2.imread(sample.key_frame_path)
    if image is None:
        missing_input(f"{sample.key_frame_path} is absent")
    return sample, image


def test_sample_crop_priors_land_on_the_labels_and_fall_back_where_no_one_is(lsp_person):
    sample, _ = lsp_person
    fallback_xy = np.full((17, 2), 7.0, np.float32)
    fallback_sc = np.full(17, 0.5, np.float32)
    person = replace(sample, prior_xy=fallback_xy, prior_scores=fallback_sc)
    nobody = replace(person, box_xyxy=np.array([0.0, 0.0, 6.0, 6.0]))  # a corner, no person
    backbone = build_yolo_backbone(pose_head=True)
    xy, scores, found = sample_crop_priors([person, nobody], backbone, detector_imgsz=640)
    assert found.tolist() == [True, False]
    # the person: the head's joints in image pixels, near LSP's own labels
    labelled = sample.weights[SHARED] > 0
    err = np.linalg.norm(xy[0, SHARED] - sample.keypoints_xy[SHARED], axis=1)[labelled]
    height = np.ptp(sample.keypoints_xy[sample.weights > 0, 1])
    assert np.median(err) < 0.1 * height
    assert (scores[0, SHARED] > 0).any() and (scores[0, [1, 2, 3, 4]] == 0).all()
    # nobody: the stand-in prior, untouched
    np.testing.assert_array_equal(xy[1], fallback_xy)
    np.testing.assert_array_equal(scores[1], fallback_sc)


def _untrained_crop_refiner() -> DiffPose:
    """A crop-prior refiner as trained from zero: it returns its prior (single frame)."""
    torch.manual_seed(0)
    cfg = DiffPoseConfig.cpu()
    cfg = replace(cfg, delta=0, decoder=replace(cfg.decoder, prior_source="crop"))
    return DiffPose.from_config(cfg).eval()


def _shifted_labels(sample, box: np.ndarray) -> np.ndarray:
    """(1, 17, 2): LSP's labels moved right by 0.15 box heights, a detection pose that is
    not the crop's."""
    height = box[0, 3] - box[0, 1]
    return (sample.keypoints_xy[None] + [0.15 * height, 0]).astype(np.float32)


@pytest.mark.parametrize("crop_mode", ["own_box", "key_box"])
def test_the_pipeline_gives_a_crop_prior_model_the_crops_pose(lsp_person, crop_mode):
    """An untrained refiner returns its prior: with a crop prior that is the head's pose on
    the crop, not the (deliberately wrong) keypoints the whole-frame detection carried."""
    sample, image = lsp_person
    model = _untrained_crop_refiner()
    assert model.uses_crop_prior
    box = np.asarray(sample.box_xyxy, np.float32)[None]
    wrong = np.tile(box[:, None, :2], (1, 17, 1))  # every joint on the box's corner
    est = PoseEstimator(model, PoseConfig(steps=1, ensemble=1, crop_mode=crop_mode))
    frame = tracked(0, image, [1], box, [0.9], wrong, np.full((1, 17), 0.9, np.float32))
    (record,) = est.push(frame) + est.flush()
    defaults = PoseConfig()  # the pipeline's prior crop, made alike for files
    want, _, found = sample_crop_priors(
        [replace(sample, prior_xy=wrong[0], prior_scores=np.zeros(17, np.float32))],
        model.backbone,
        detector_imgsz=640,
        prior_crop_px=defaults.prior_crop_px,
        prior_crop_max_upscale=defaults.prior_crop_max_upscale,
    )
    assert found[0]
    gap = np.linalg.norm(record.keypoints_xy[0, SHARED] - want[0, SHARED], axis=1)
    px_per_heatmap_px = (box[0, 3] - box[0, 1]) * 1.25 / 64
    assert gap.max() <= 1.5 * px_per_heatmap_px  # heatmap decoding only
    assert np.linalg.norm(record.keypoints_xy[0, SHARED] - wrong[0, SHARED], axis=1).min() > 5


def test_prior_crop_px_takes_the_crop_pose_from_a_larger_crop_in_pipeline_and_files(
    lsp_person,
):
    """PoseConfig.prior_crop_px reaches the pipeline and sample_crop_priors (training and
    evaluation files) alike: the same 384 px crop's pose from the same frame, which is not
    the model-size crop's (an untrained refiner returns its prior)."""
    sample, image = lsp_person
    model = _untrained_crop_refiner()
    box = np.asarray(sample.box_xyxy, np.float32)[None]
    wrong = np.tile(box[:, None, :2], (1, 17, 1))
    scores = np.full((1, 17), 0.9, np.float32)
    person = replace(sample, prior_xy=wrong[0], prior_scores=np.zeros(17, np.float32))
    want, _, found = sample_crop_priors([person], model.backbone, 640, prior_crop_px=384)
    plain, _, _ = sample_crop_priors([person], model.backbone, 640)
    assert found[0]
    tolerance = 1.5 * (box[0, 3] - box[0, 1]) * 1.25 / 64  # heatmap decoding only
    # the two crops' poses differ by more than decoding could blur (else the test is vacuous)
    assert np.linalg.norm(want[0, SHARED] - plain[0, SHARED], axis=1).max() > tolerance
    scale = crop_px_per_image_px(crop_affines(box, (384, 288)))[0]
    records = {}
    for name, px, limit in (
        ("model-size", 0, 0.0),
        ("384", 384, 0.0),
        ("384 within its limit", 384, scale * 1.1),
        ("384 past its limit", 384, scale * 0.9),
    ):
        config = PoseConfig(steps=1, ensemble=1, prior_crop_px=px, prior_crop_max_upscale=limit)
        est = PoseEstimator(model, config)
        (records[name],) = est.push(tracked(0, image, [1], box, [0.9], wrong, scores)) + est.flush()
    for name, expected, other in (
        ("model-size", plain, want),
        ("384", want, plain),
        ("384 within its limit", want, plain),
        ("384 past its limit", plain, want),
    ):
        got = records[name].keypoints_xy[0, SHARED]
        gap = np.linalg.norm(got - expected[0, SHARED], axis=1)
        assert gap.max() <= tolerance, name
        assert gap.mean() < np.linalg.norm(got - other[0, SHARED], axis=1).mean(), name
    assert PipelineConfig.fast().pose.prior_crop_px == 0  # --fast makes no second pass
    for bad in (200, 160, -32):
        with pytest.raises(ValueError, match="prior_crop_px"):
            PoseConfig(prior_crop_px=bad)
    with pytest.raises(ValueError, match="prior_crop_max_upscale"):
        PoseConfig(prior_crop_max_upscale=-1.0)


def test_resized_crop_priors_replace_only_the_crop_poses_the_head_finds(lsp_person) -> None:
    """Rows whose prior is not their crop pose (the detection's, a larger crop's) are kept,
    and so is a row whose larger crop holds no one."""
    sample, image = lsp_person
    box = np.asarray(sample.box_xyxy, np.float32)
    boxes = np.stack([box, box, np.array([0.0, 0.0, 6.0, 6.0], np.float32)])
    prior = np.full((3, 17, 2), 3.0, np.float32)
    prior_sc = np.full((3, 17), 0.25, np.float32)
    backbone = build_yolo_backbone(pose_head=True)
    head = lambda crops: backbone.forward_rgb_pose(crops, torch.float32)[1]  # noqa: E731
    xy, sc, used = resized_crop_priors(
        [image] * 3, boxes, prior, prior_sc, np.array([True, False, True]), 384, head
    )
    assert used.tolist() == [True, False, False]
    np.testing.assert_array_equal(xy[1:], prior[1:])
    np.testing.assert_array_equal(sc[1:], prior_sc[1:])
    labelled = sample.weights[SHARED] > 0
    err = np.linalg.norm(xy[0, SHARED] - sample.keypoints_xy[SHARED], axis=1)[labelled]
    assert np.median(err) < 0.1 * np.ptp(sample.keypoints_xy[sample.weights > 0, 1])
    # max_upscale: the person is kept off the larger crop once that crop would enlarge it more
    scale = crop_px_per_image_px(crop_affines(box[None], (384, 288)))[0]
    for limit, taken in ((scale * 0.9, False), (scale * 1.1, True)):
        _, _, used = resized_crop_priors(
            [image], box[None], prior[:1], prior_sc[:1], np.array([True]), 384, head, limit
        )
        assert used.tolist() == [taken]


def test_the_pipeline_follows_prior_choice_detection(lsp_person):
    """PoseConfig.prior_choice reaches the pipeline: "detection" hands the same untrained
    refiner the whole-frame detection's keypoints, which it returns."""
    sample, image = lsp_person
    model = _untrained_crop_refiner()
    box = np.asarray(sample.box_xyxy, np.float32)[None]
    height = box[0, 3] - box[0, 1]
    det = _shifted_labels(sample, box)
    pose_cfg = PoseConfig(steps=1, ensemble=1, prior_choice="detection")
    est = PoseEstimator(model, pose_cfg)
    frame = tracked(0, image, [1], box, [0.9], det, np.full((1, 17), 0.9, np.float32))
    (record,) = est.push(frame) + est.flush()
    labelled = [j for j in SHARED if sample.weights[j] > 0]
    gap = np.linalg.norm(record.keypoints_xy[0, labelled] - det[0, labelled], axis=1)
    assert gap.max() <= 1.5 * height * 1.25 / 64  # heatmap decoding only
    with pytest.raises(ValueError, match="prior_choice"):
        PoseConfig(prior_choice="best")


def test_the_pipeline_gives_both_poses_with_prior_choice_both(lsp_person):
    """ "both" runs the refiner from the crop pose and from the detection's and averages: an
    untrained refiner returns each prior as confidence-scaled heatmaps, so each joint lands
    on the pose scored higher: the crop's where the detection scores 0.01, mostly the
    detection's where it scores 1.0."""
    sample, image = lsp_person
    model = _untrained_crop_refiner()
    box = np.asarray(sample.box_xyxy, np.float32)[None]
    height = box[0, 3] - box[0, 1]
    det = _shifted_labels(sample, box)
    det_scores = np.full((1, 17), 0.01, np.float32)
    sure = SHARED[::2]  # every other shared joint: the detection is sure of it
    det_scores[0, sure] = 1.0
    est = PoseEstimator(model, PoseConfig(steps=1, ensemble=1, prior_choice="both"))
    (record,) = est.push(tracked(0, image, [1], box, [0.9], det, det_scores)) + est.flush()
    crop_xy, _, found = sample_crop_priors(
        [replace(sample, prior_xy=det[0], prior_scores=det_scores[0])],
        model.backbone,
        detector_imgsz=640,
    )
    assert found[0]
    tolerance = 1.5 * height * 1.25 / 64  # heatmap decoding only
    labelled = sample.weights > 0  # unlabelled joints sit at (0, 0), off the crop
    sure = [j for j in sure if labelled[j]]
    unsure = [j for j in SHARED if j not in sure and labelled[j]]
    assert len(sure) >= 3 and len(unsure) >= 3
    gap_det = np.linalg.norm(record.keypoints_xy[0] - det[0], axis=1)
    gap_crop = np.linalg.norm(record.keypoints_xy[0] - crop_xy[0], axis=1)
    on_one = np.minimum(gap_det, gap_crop) <= tolerance
    assert on_one[sure + unsure].all()  # every joint on one of the two poses
    assert (gap_crop[unsure] <= tolerance).all()  # a 0.01-scored detection joint loses
    # a 1.0-scored one wins unless the crop's own score ties it (the head is often ~1.0)
    assert (gap_det[sure] <= tolerance).sum() >= len(sure) // 2


def test_the_crop_pose_is_used_where_the_crop_holds_more_of_the_person() -> None:
    """Upscaling adds no detail: a person of a small image (LSP) gets the crop's pose, a small
    person of a 1080p frame too (the detector saw it shrunk 3x), a large person of a large
    photo keeps the detection's (its crop shrinks it more than the detector did)."""
    boxes = np.array([[10, 10, 70, 160], [900, 400, 960, 560], [100, 20, 500, 1000]], np.float32)
    affines = crop_affines(boxes, (256, 192))
    small_image = crop_sees_more(affines[:1], (180, 120), 640)
    hd_frame = crop_sees_more(affines[1:], (1080, 1920), 640)
    assert small_image.tolist() == [True]
    assert hd_frame.tolist() == [True, False]


def test_prior_choices_pick_the_crop_or_the_detection_pose_per_person_or_per_joint() -> None:
    """Three persons: the crop sees more of 0 only; the head found no one in 2's crop (its
    crop pose is unusable whatever the scores say). Person 1's crop pose is the more
    confident one on average, while person 0's detection pose is; joint 5 of person 0 is
    scored higher in its crop."""
    crop_xy = np.full((3, 17, 2), 1.0, np.float32)
    det_xy = np.full((3, 17, 2), 2.0, np.float32)
    crop_sc = np.zeros((3, 17), np.float32)
    det_sc = np.zeros((3, 17), np.float32)
    crop_sc[:, SHARED] = [[0.3], [0.9], [0.9]]
    det_sc[:, SHARED] = [[0.8], [0.5], [0.5]]
    crop_sc[0, 5] = 0.95
    found = np.array([True, True, False])
    sees_more = np.array([True, False, True])

    def picked(choice: str) -> np.ndarray:
        xy, sc = choose_prior(crop_xy, crop_sc, found, det_xy, det_sc, sees_more, choice)
        took_crop = xy[:, :, 0] == 1.0
        assert np.array_equal(sc, np.where(took_crop, crop_sc, det_sc))  # scores go with xy
        return took_crop

    assert picked("rule")[:, 0].tolist() == [True, False, False]
    assert picked("crop")[:, 0].tolist() == [True, True, False]
    assert np.array_equal(picked("both"), picked("crop"))  # the detection's is the 2nd prior
    assert not picked("detection").any()
    assert picked("confident")[:, 0].tolist() == [False, True, False]
    per_joint = picked("per_joint")
    assert per_joint[0].nonzero()[0].tolist() == [5]
    assert per_joint[1, SHARED].all() and not per_joint[2].any()
    with pytest.raises(ValueError, match="prior choice"):
        choose_prior(crop_xy, crop_sc, found, det_xy, det_sc, sees_more, "best")


@pytest.fixture(scope="module")
def large_person(lsp_person):
    """An LSP person in a frame five times larger: the 256×192 crop holds fewer of its
    pixels than the detector's 640 px input, so the rule keeps the detection's pose."""
    sample, image = lsp_person
    frame = cv2.resize(image, None, fx=5, fy=5, interpolation=cv2.INTER_CUBIC)
    box = (np.asarray(sample.box_xyxy, np.float32) * 5)[None]
    labels = (sample.keypoints_xy * 5).astype(np.float32)
    sees_more = crop_sees_more(crop_affines(box, (256, 192)), frame.shape[:2], 640)
    assert not sees_more[0]
    return sample, frame, box, labels, sees_more


def test_large_crop_priors_replace_the_detection_only_where_the_large_crop_sees_more(
    large_person,
) -> None:
    sample, frame, box, labels, sees_more = large_person
    backbone = build_yolo_backbone(pose_head=True)
    head = lambda crops: backbone.forward_rgb_pose(crops, torch.float32)[1]  # noqa: E731
    wrong = np.tile(box[:, None, :2], (1, 17, 1))  # every joint on the box's corner
    wrong_sc = np.full((1, 17), 0.3, np.float32)
    xy, sc, used = large_crop_priors(frame, box, wrong, wrong_sc, sees_more, 640, 1024, head)
    assert used.tolist() == [True]
    labelled = [j for j in SHARED if sample.weights[j] > 0]
    err = np.linalg.norm(xy[0, labelled] - labels[labelled], axis=1)
    assert np.median(err) < 0.1 * np.ptp(labels[sample.weights > 0, 1])
    assert (sc[0, SHARED] != 0.3).any()
    # a crop still smaller than the detector's view, or a person the rule already gave the
    # crop pose, keep the prior they came with
    for px, rule_took_crop in ((768, False), (1024, True)):
        xy, sc, used = large_crop_priors(
            frame, box, wrong, wrong_sc, np.array([rule_took_crop]), 640, px, head
        )
        assert not used.any()
        np.testing.assert_array_equal(xy, wrong)
        np.testing.assert_array_equal(sc, wrong_sc)
    # a frame the detector saw whole (longer side <= 640): a larger crop adds no pixels
    small = cv2.resize(frame, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    assert max(small.shape[:2]) <= 640
    xy, sc, used = large_crop_priors(
        small, box * 0.7, wrong * 0.7, wrong_sc, np.array([False]), 640, 1024, head
    )
    assert not used.any()
    np.testing.assert_array_equal(xy, wrong * 0.7)


def test_the_crop_sized_per_person_is_the_smallest_that_reaches_the_detectors_scale() -> None:
    """A crop of that height (a multiple of 128) holds at least as many of the person's
    pixels as the detector's base input; one 128 px shorter holds fewer."""
    boxes = np.array([[100, 20, 500, 1000], [0, 0, 300, 700], [50, 50, 90, 150]], np.float32)
    for frame_hw in ((1080, 1920), (1280, 720), (480, 640)):
        px = scale_reaching_crop_px(crop_affines(boxes, (384, 288)), 384, frame_hw, 640)
        assert (px % 128 == 0).all()
        for box, h in zip(boxes, px, strict=True):
            reach = crop_sees_more(crop_affines(box[None], (h, h * 3 // 4)), frame_hw, 640)
            assert reach[0]
            if h > 128:
                shorter = (h - 128, (h - 128) * 3 // 4)
                assert not crop_sees_more(crop_affines(box[None], shorter), frame_hw, 640)[0]


def test_large_crop_priors_size_a_crop_per_person_up_to_max_crop_px(large_person) -> None:
    """A person whom even the fixed large crop shows shrunk more than the detector did gets
    a crop sized to reach the detector's scale, when that crop is at most ``max_crop_px``."""
    sample, frame, box, labels, sees_more = large_person
    backbone = build_yolo_backbone(pose_head=True)
    sizes = []

    def head(crops):
        sizes.append(tuple(crops.shape[1:3]))
        return backbone.forward_rgb_pose(crops, torch.float32)[1]

    wrong = np.tile(box[:, None, :2], (1, 17, 1))
    wrong_sc = np.full((1, 17), 0.3, np.float32)
    (need,) = scale_reaching_crop_px(crop_affines(box, (384, 288)), 384, frame.shape[:2], 640)
    assert need > 384
    _, _, used = large_crop_priors(frame, box, wrong, wrong_sc, sees_more, 640, 384, head)
    assert not used.any() and not sizes  # the fixed crop does not reach: no pass
    _, _, used = large_crop_priors(
        frame, box, wrong, wrong_sc, sees_more, 640, 384, head, max_crop_px=need - 128
    )
    assert not used.any() and not sizes  # the needed crop is above the cap
    xy, _, used = large_crop_priors(
        frame, box, wrong, wrong_sc, sees_more, 640, 384, head, max_crop_px=need
    )
    assert used.tolist() == [True] and sizes == [(need, need * 3 // 4)]
    labelled = [j for j in SHARED if sample.weights[j] > 0]
    err = np.linalg.norm(xy[0, labelled] - labels[labelled], axis=1)
    assert np.median(err) < 0.1 * np.ptp(labels[sample.weights > 0, 1])
    _, _, used = large_crop_priors(
        frame, box, wrong, wrong_sc, sees_more, 640, 384, head, max_crop_px=384
    )
    assert not used.any()  # a cap up to the fixed crop: no crop sized per person
    for bad in (600, -128):
        with pytest.raises(ValueError, match="max_prior_crop_px"):
            PoseConfig(max_prior_crop_px=bad)


def test_large_crop_priors_group_persons_by_crop_size_and_keep_each_row(
    large_person, monkeypatch
) -> None:
    """Four persons of one frame: one the model-size crop already serves (no pass), one the
    384 px crop reaches, two needing crops of different sizes, and one needing a crop above
    the cap (keeps its prior). One head pass per crop size, each person's pose on its own row
    (an untrained head's outputs stand in: only the rows and sizes are checked here)."""
    _, frame, box, _, _ = large_person
    height, width = frame.shape[:2]
    sides = np.array([0.1, 0.45, 0.65, 0.9], np.float64) * height
    boxes = np.array(
        [[x, 5, x + 0.4 * h, 5 + h] for x, h in zip((5, 60, 300, 500), sides, strict=True)],
        np.float32,
    )
    boxes[:, 2] = np.minimum(boxes[:, 2], width - 1)
    sees_more = crop_sees_more(crop_affines(boxes, (256, 192)), (height, width), 640)
    need = scale_reaching_crop_px(crop_affines(boxes, (384, 288)), 384, (height, width), 640)
    assert sees_more.tolist() == [True, False, False, False], (sees_more, need)
    reach384 = crop_sees_more(crop_affines(boxes, (384, 288)), (height, width), 640)
    cap = int(need[3]) - 128
    assert reach384[1] and not reach384[2:].any() and need[2] < need[3] and need[2] <= cap
    passes = []

    def head(crops):
        passes.append((tuple(crops.shape[1:3]), len(crops)))
        return {}  # decoded by fake_pose below

    calls = []

    def fake_pose(pose, affines, rows_boxes):
        calls.append(len(rows_boxes))
        n = len(rows_boxes)
        return (
            np.full((n, 17, 2), float(len(calls)), np.float32),
            np.full((n, 17), 0.5, np.float32),
            np.ones(n, bool),
        )

    monkeypatch.setattr("posetool.run.crop_priors.crop_pose_priors", fake_pose)
    wrong = np.zeros((4, 17, 2), np.float32)
    wrong_sc = np.zeros((4, 17), np.float32)
    xy, _, used = large_crop_priors(
        frame, boxes, wrong, wrong_sc, sees_more, 640, 384, head, max_crop_px=cap
    )
    assert passes == [((384, 288), 1), ((int(need[2]), int(need[2]) * 3 // 4), 1)]
    assert used.tolist() == [False, True, True, False]
    assert xy[1, 0, 0] == 1.0  # person 1 got the 384 px pass's pose
    np.testing.assert_array_equal(xy[[0, 3]], wrong[[0, 3]])  # untouched rows
    assert xy[2, 0, 0] == len(calls)  # person 2 got the last (sized) pass's pose


def test_the_pipeline_and_the_sample_priors_take_the_same_large_crop_pose(
    large_person, tmp_path
) -> None:
    """PoseConfig.large_prior_crop_px and max_prior_crop_px reach the pipeline, and
    sample_crop_priors (training and evaluation files) makes the same prior from the same
    frame: an untrained refiner returns it."""
    sample, frame, box, _, _ = large_person
    model = _untrained_crop_refiner()
    wrong = np.tile(box[:, None, :2], (1, 17, 1))  # every joint on the box's corner
    scores = np.full((1, 17), 0.9, np.float32)
    records = {}
    for px in (0, 1024):
        est = PoseEstimator(model, PoseConfig(steps=1, ensemble=1, large_prior_crop_px=px))
        (records[px],) = est.push(tracked(0, frame, [1], box, [0.9], wrong, scores)) + est.flush()
    path = tmp_path / "large.png"
    cv2.imwrite(str(path), frame)
    large = replace(
        sample,
        frame_paths=(str(path),),
        box_xyxy=box[0].astype(float),
        prior_xy=wrong[0],
        prior_scores=scores[0],
    )
    want, _, found = sample_crop_priors([large], model.backbone, 640, large_crop_px=1024)
    assert found[0]
    tolerance = 1.5 * (box[0, 3] - box[0, 1]) * 1.25 / 64  # heatmap decoding only
    gap = np.linalg.norm(records[1024].keypoints_xy[0, SHARED] - want[0, SHARED], axis=1)
    assert gap.max() <= tolerance
    # without it the rule keeps the (wrong) detection's pose
    gap0 = np.linalg.norm(records[0].keypoints_xy[0, SHARED] - wrong[0, SHARED], axis=1)
    assert gap0.max() <= tolerance
    for bad in (500, 160):  # 160 · 3/4 = 120, no multiple of 32
        with pytest.raises(ValueError, match="large_prior_crop_px"):
            PoseConfig(large_prior_crop_px=bad)
    # the defaults (384 px, then a crop sized per person up to 1024): the 384 px crop does not
    # reach the detector's scale here, the sized one does, in the pipeline as in the files
    sized = {}
    for max_px in (0, 1024):
        est = PoseEstimator(model, PoseConfig(steps=1, ensemble=1, max_prior_crop_px=max_px))
        (sized[max_px],) = est.push(tracked(0, frame, [1], box, [0.9], wrong, scores)) + est.flush()
    want, _, found = sample_crop_priors(
        [large], model.backbone, 640, large_crop_px=384, max_crop_px=1024
    )
    assert found[0]
    gap = np.linalg.norm(sized[1024].keypoints_xy[0, SHARED] - want[0, SHARED], axis=1)
    assert gap.max() <= tolerance
    gap0 = np.linalg.norm(sized[0].keypoints_xy[0, SHARED] - wrong[0, SHARED], axis=1)
    assert gap0.max() <= tolerance


def test_detector_priors_cli_checks_the_crop_sizes_before_loading_data(tmp_path) -> None:
    from click.testing import CliRunner

    from posetool.cli import main

    args = ["detector-priors", "--data", "lsp:/nonexistent:test", "-o", str(tmp_path / "p.npz")]
    result = CliRunner().invoke(main, [*args, "--large-crop-px", "384"])
    assert result.exit_code == 2 and "--large-crop-px needs --crop" in result.output
    result = CliRunner().invoke(main, [*args, "--crop", "--large-crop-px", "500"])
    assert result.exit_code == 2 and "multiple of 32" in result.output
    result = CliRunner().invoke(main, [*args, "--prior-crop-px", "384"])
    assert result.exit_code == 2 and "--prior-crop-px needs --crop" in result.output
    result = CliRunner().invoke(main, [*args, "--crop", "--prior-crop-px", "200"])
    assert result.exit_code == 2 and "prior_crop_px" in result.output
    result = CliRunner().invoke(main, [*args, "--crop", "--prior-crop-max-upscale", "-1"])
    assert result.exit_code == 2 and "--prior-crop-max-upscale" in result.output
    assert not (tmp_path / "p.npz").exists()
