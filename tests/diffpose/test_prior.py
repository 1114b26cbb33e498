"""Refining the detector's pose (``decoder.prior``): the model, the data and the prior files."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from diffpose.config import DiffPoseConfig
from diffpose.data.clip_dataset import ClipDataset
from diffpose.data.priors import MAX_OTHER_PERSONS, attach_priors, sample_key, save_priors
from diffpose.data.samples import PoseSample
from diffpose.data.transforms import AugmentConfig
from diffpose.heatmaps import flip_heatmaps_back, prior_heatmaps
from diffpose.keypoints import flip_permutation
from diffpose.model import DiffPose


def _prior_model(seed: int = 0) -> DiffPose:
    torch.manual_seed(seed)
    cfg = DiffPoseConfig.tiny()
    return DiffPose.from_config(replace(cfg, decoder=replace(cfg.decoder, prior=True)))


def _prior(b: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand((b, 17, 2), generator=g) * torch.tensor([40.0, 56.0]) + 4
    return xy, prior_heatmaps(xy, torch.ones(b, 17), (64, 48))


def test_an_untrained_refiner_returns_the_prior_and_learns_from_there() -> None:
    model = _prior_model()
    clips = torch.randn(2, model.num_frames, 3, 256, 192)
    xy, prior = _prior(2)
    res = model.predict(clips, steps=1, ensemble=2, prior=prior)
    gap = np.abs(res.keypoints_xy / 4 - xy.numpy())
    assert gap.max() <= 0.5  # heatmap decoding's quarter-pixel shifts only
    # one step of training moves it: the correction head is trainable from zero
    target_xy = xy + 3.0
    target = prior_heatmaps(target_xy, torch.ones(2, 17), (64, 48))
    opt = torch.optim.AdamW(model.decoder.parameters(), lr=1e-3)

    def loss() -> torch.Tensor:  # the same t and noise every time
        gen = torch.Generator().manual_seed(1)
        return model.loss(clips, target, torch.ones(2, 17), generator=gen, prior=prior)

    first = loss().item()
    for _ in range(5):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert loss().item() < first


def test_extra_priors_add_their_own_members_to_the_average() -> None:
    """Two passes of the detector as two priors: an untrained refiner returns each prior, so
    the averaged heatmap peaks at one of the two poses where they lie apart, and a second copy of the
    same prior changes nothing but the member count."""
    model = _prior_model()
    clips = torch.randn(1, model.num_frames, 3, 256, 192)
    xy_a, prior_a = _prior(1, seed=0)
    xy_b, prior_b = _prior(1, seed=1)
    one = model.predict(clips, steps=1, ensemble=2, prior=prior_a)
    same = model.predict(clips, steps=1, ensemble=2, prior=prior_a, extra_priors=(prior_a,))
    np.testing.assert_allclose(same.keypoints_xy, one.keypoints_xy)
    both = model.predict(clips, steps=1, ensemble=2, prior=prior_a, extra_priors=(prior_b,))
    gap_a = np.abs(both.keypoints_xy / 4 - xy_a.numpy()).max(-1)
    gap_b = np.abs(both.keypoints_xy / 4 - xy_b.numpy()).max(-1)
    apart = np.abs(xy_a.numpy() - xy_b.numpy()).max(-1) > 4  # else the two peaks merge
    assert (np.minimum(gap_a, gap_b)[apart] <= 0.5).all()
    assert (gap_a > 1).any() and (gap_b > 1).any()  # both priors were heard
    assert (both.spread > 1).any()  # the two poses' members disagree: a spread signal


def test_a_refiner_needs_its_prior_and_a_paper_model_refuses_one() -> None:
    clips = torch.randn(1, 3, 3, 256, 192)
    with pytest.raises(ValueError, match="needs the detector's pose"):
        _prior_model().predict(clips, steps=1, ensemble=1)
    torch.manual_seed(0)
    paper = DiffPose.from_config(DiffPoseConfig.tiny())
    with pytest.raises(ValueError, match="takes no prior"):
        paper.predict(clips, steps=1, ensemble=1, prior=_prior(1)[1])
    assert not paper.uses_prior and _prior_model().uses_prior


def test_shipped_presets() -> None:
    assert DiffPoseConfig.cpu().decoder.prior
    assert not DiffPoseConfig.cpu_paper().decoder.prior
    assert DiffPoseConfig.cpu().backbone == DiffPoseConfig.cpu_paper().backbone


def _sample(tmp_path, prior: bool = True) -> PoseSample:
    import cv2

    path = tmp_path / "frame.png"
    cv2.imwrite(str(path), np.zeros((200, 160, 3), np.uint8))
    kp = np.tile([[60.0, 80.0]], (17, 1))
    kp[5], kp[6] = [50, 70], [110, 70]  # shoulders: left on the image's left
    extra = {}
    if prior:
        extra = dict(prior_xy=kp + 4.0, prior_scores=np.linspace(0.1, 0.9, 17).astype(np.float32))
    return PoseSample(
        (str(path),) * 3,
        kp,
        np.ones(17),
        np.array([20.0, 20.0, 140.0, 180.0]),
        static=True,
        **extra,
    )


def test_the_prior_follows_the_crop_and_the_flip(tmp_path) -> None:
    s = _sample(tmp_path)
    plain = ClipDataset([s], augment=None)[0]
    assert torch.allclose(plain["prior_hm"], plain["keypoints_hm"] + 4.0 / 4 * _scale(s), atol=1e-3)
    assert torch.allclose(plain["prior_scores"], torch.from_numpy(s.prior_scores))
    flip_only = AugmentConfig(
        rotation_prob=0.0, scale_factor=0.0, half_body_prob=0.0, flip_prob=1.0
    )
    flipped = ClipDataset([s], augment=flip_only)[0]
    perm = list(flip_permutation())
    assert torch.allclose(flipped["prior_scores"], torch.from_numpy(s.prior_scores[perm]))
    # after the flip the prior still sits beside the target of the same slot
    gap = flipped["prior_hm"] - flipped["keypoints_hm"]
    assert torch.allclose(gap[:, 1], torch.full((17,), gap[0, 1].item()), atol=1e-3)
    none = ClipDataset([_sample(tmp_path, prior=False)], augment=None)[0]
    assert float(none["prior_scores"].abs().sum()) == 0.0


def _scale(s: PoseSample) -> float:
    from diffpose.data.transforms import box_to_crop, crop_affine

    affine = crop_affine(box_to_crop(s.box_xyxy), (256, 192))
    return float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))


def test_prior_files_round_trip_and_name_what_is_missing(tmp_path) -> None:
    s = _sample(tmp_path, prior=False)
    other = replace(s, box_xyxy=np.array([0.0, 0.0, 10.0, 10.0]))
    xy = np.full((1, 17, 2), 7.0, np.float32)
    sc = np.full((1, 17), 0.5, np.float32)
    save_priors(tmp_path / "p.npz", [s], xy, sc)
    (got,) = attach_priors([s], tmp_path / "p.npz")
    assert np.allclose(got.prior_xy, 7.0) and np.allclose(got.prior_scores, 0.5)
    with pytest.raises(ValueError, match="1 samples have no detector prior"):
        attach_priors([s, other], tmp_path / "p.npz")
    assert sample_key(s) != sample_key(other)
    with pytest.raises(ValueError, match="prior_xy and prior_scores"):
        PoseSample(s.frame_paths, s.keypoints_xy, s.weights, s.box_xyxy, prior_xy=xy[0])
    # a file says which prior it holds; a crop-prior model refuses whole-frame ones
    assert attach_priors([s], tmp_path / "p.npz", source="detection")
    with pytest.raises(ValueError, match="holds 'detection' priors.*takes 'crop'.*--crop"):
        attach_priors([s], tmp_path / "p.npz", source="crop")
    save_priors(tmp_path / "c.npz", [s], xy, sc, source="crop")
    assert attach_priors([s], tmp_path / "c.npz", source="crop")


def test_prior_corruption_moves_drops_and_swaps_only_when_asked() -> None:
    from diffpose.data.transforms import corrupt_prior

    xy = np.tile(np.arange(17, dtype=np.float64)[:, None], (1, 2))
    sc = np.full(17, 0.9, np.float32)
    rng = np.random.default_rng(0)
    same_xy, same_sc = corrupt_prior(xy, sc, AugmentConfig(), rng)
    assert same_xy is xy and same_sc is sc
    assert rng.random() == np.random.default_rng(0).random()  # nothing drawn when off
    moved, _ = corrupt_prior(xy, sc, AugmentConfig(prior_jitter_prob=1.0), rng)
    assert np.all(np.abs(moved - xy).max(1) > 0)
    _, dropped = corrupt_prior(xy, sc, AugmentConfig(prior_drop_prob=1.0), rng)
    assert np.all(dropped == 0)
    swapped, _ = corrupt_prior(xy, sc, AugmentConfig(prior_swap_prob=1.0), rng)
    assert np.array_equal(swapped, xy[list(flip_permutation())])
    with pytest.raises(ValueError, match="prior_drop_prob"):
        AugmentConfig(prior_drop_prob=1.5)


def test_the_alternative_prior_is_given_with_its_probability_and_changes_nothing_when_off(
    tmp_path,
) -> None:
    s = _sample(tmp_path)
    save_priors(tmp_path / "alt.npz", [s], s.prior_xy[None] + 20.0, s.prior_scores[None] / 2)
    (both,) = attach_priors([s], tmp_path / "alt.npz", alternative=True)
    assert np.array_equal(both.prior_xy, s.prior_xy)  # the prior itself is kept
    assert np.allclose(both.alt_prior_xy, s.prior_xy + 20.0)
    with pytest.raises(ValueError, match="alt_prior_xy and alt_prior_scores"):
        replace(s, alt_prior_xy=s.prior_xy)
    aug = AugmentConfig(prior_jitter_prob=0.5, prior_drop_prob=0.2)
    # off: every output is what the sample without an alternative gets (no extra draw)
    for epoch in range(3):
        ds_plain, ds_alt = ClipDataset([s], augment=aug), ClipDataset([both], augment=aug)
        ds_plain.set_epoch(epoch), ds_alt.set_epoch(epoch)
        plain, alt_off = ds_plain[0], ds_alt[0]
        for key in ("prior_hm", "prior_scores", "keypoints_hm", "clip"):
            assert torch.equal(plain[key], alt_off[key])
    # always: the alternative, moved with the crop as the prior is
    no_aug = AugmentConfig(rotation_prob=0.0, scale_factor=0.0, half_body_prob=0.0, flip_prob=0.0)
    always = ClipDataset([both], augment=replace(no_aug, prior_alt_prob=1.0))[0]
    never = ClipDataset([both], augment=no_aug)[0]
    shift_hm = 20.0 / 4 * _scale(s)  # 20 image px, in heatmap px
    assert torch.allclose(
        always["prior_hm"] - never["prior_hm"], torch.full((17, 2), shift_hm), atol=1e-3
    )
    assert torch.allclose(always["prior_scores"], never["prior_scores"] / 2)
    # half: both kinds over epochs
    half = ClipDataset([both], augment=replace(no_aug, prior_alt_prob=0.5))
    picked = set()
    for epoch in range(12):
        half.set_epoch(epoch)
        picked.add(round(float(half[0]["prior_scores"].sum()), 4))
    assert len(picked) == 2


def _others_model(seed: int = 0) -> DiffPose:
    torch.manual_seed(seed)
    cfg = DiffPoseConfig.tiny()
    decoder = replace(cfg.decoder, prior=True, prior_others=True)
    return DiffPose.from_config(replace(cfg, decoder=decoder))


def test_the_others_maps_follow_the_prior_and_hold_every_neighbours_joint_at_its_score() -> None:
    model = _others_model()
    assert model.uses_others and not _prior_model().uses_others
    xy, own = _prior(2)
    others_xy = torch.zeros(2, 2, 17, 2)
    others_xy[:, 0] = torch.tensor([10.0, 20.0])  # every joint of neighbour 0 at (10, 20)
    others_xy[:, 1] = torch.tensor([30.0, 40.0])
    others_scores = torch.zeros(2, 2, 17)
    others_scores[0, 0], others_scores[0, 1, 3] = 0.4, 0.9  # sample 0: neighbour 1's joint 3
    prior = model.prior_from_keypoints(xy, torch.ones(2, 17), others_xy, others_scores)
    assert prior.shape == (2, 34, 64, 48)
    assert torch.allclose(prior[:, :17], own)
    maps = prior[0, 17:]
    assert maps[5, 20, 10] == pytest.approx(0.4) and float(maps[5, 40, 30]) < 1e-6
    assert maps[3, 40, 30] == pytest.approx(0.9) and maps[3, 20, 10] == pytest.approx(0.4)
    assert float(prior[1, 17:].max()) == 0.0  # nobody else around sample 1
    alone = model.prior_from_keypoints(xy, torch.ones(2, 17))
    assert torch.allclose(alone[:, :17], own) and float(alone[:, 17:].abs().max()) == 0.0
    # the plain refiner's prior has no others' maps, whatever it is given
    plain = _prior_model().prior_from_keypoints(xy, torch.ones(2, 17), others_xy, others_scores)
    assert plain.shape == (2, 17, 64, 48)


def test_a_refiner_told_of_the_others_starts_from_its_prior_and_checks_the_channels() -> None:
    model = _others_model()
    clips = torch.randn(2, model.num_frames, 3, 256, 192)
    xy, own = _prior(2)
    others = prior_heatmaps(xy.flip(-1).clamp(0, 47), torch.ones(2, 17), (64, 48))
    for flip_test in (False, True):  # an untrained refiner returns its prior, flip test or not
        res = model.predict(
            clips, steps=1, ensemble=2, prior=torch.cat([own, others], 1), flip_test=flip_test
        )
        assert np.abs(res.keypoints_xy / 4 - xy.numpy()).max() <= 0.5
    with pytest.raises(ValueError, match=r"prior must be \(B=2, 34"):
        model.predict(clips, steps=1, ensemble=1, prior=own)
    perm = model.prior_flip_permutation()
    assert perm[:17] == flip_permutation() and perm[17:] == tuple(17 + i for i in perm[:17])
    # the mirrored prior's others' maps are the mirrored others' own maps, sides swapped
    mirrored = flip_heatmaps_back(torch.cat([own, others], 1), perm)
    assert torch.equal(mirrored[:, 17:], flip_heatmaps_back(others, flip_permutation()))
    assert not torch.equal(mirrored[:, 17:], flip_heatmaps_back(others, tuple(range(17))))
    with pytest.raises(ValueError, match="prior_others needs decoder.prior"):
        replace(DiffPoseConfig.tiny().decoder, prior_others=True)


def test_the_others_poses_follow_the_crop_and_the_flip_and_round_trip_in_files(tmp_path) -> None:
    s = _sample(tmp_path)
    others_xy = np.zeros((MAX_OTHER_PERSONS, 17, 2))
    others_xy[0] = s.keypoints_xy + 30.0
    others_scores = np.zeros((MAX_OTHER_PERSONS, 17), np.float32)
    others_scores[0] = np.linspace(0.1, 0.9, 17)
    save_priors(
        tmp_path / "o.npz", [s], s.prior_xy[None], s.prior_scores[None],
        others=(others_xy[None], others_scores[None]),
    )  # fmt: skip
    (got,) = attach_priors([replace(s, prior_xy=None, prior_scores=None)], tmp_path / "o.npz")
    assert np.allclose(got.others_xy, others_xy) and np.allclose(got.others_scores, others_scores)
    plain = ClipDataset([got], augment=None)[0]
    assert torch.allclose(
        plain["others_hm"][0], plain["keypoints_hm"] + 30.0 / 4 * _scale(s), atol=1e-3
    )
    assert float(plain["others_scores"][1:].abs().sum()) == 0.0
    flip_only = AugmentConfig(
        rotation_prob=0.0, scale_factor=0.0, half_body_prob=0.0, flip_prob=1.0
    )
    flipped = ClipDataset([got], augment=flip_only)[0]
    perm = list(flip_permutation())
    assert torch.allclose(flipped["others_scores"][0], torch.from_numpy(others_scores[0, perm]))
    gap = flipped["others_hm"][0] - flipped["keypoints_hm"]  # the same slot's joint, moved alike
    # x: the shoulders (x 50 and 110) would lie 60 px apart had the others' sides not swapped
    assert torch.allclose(gap[:, 0], torch.full((17,), gap[0, 0].item()), atol=1e-3)
    assert torch.allclose(gap[:, 1], torch.full((17,), gap[0, 1].item()), atol=1e-3)
    none = ClipDataset([_sample(tmp_path)], augment=None)[0]
    assert none["others_hm"].shape == (MAX_OTHER_PERSONS, 17, 2)
    assert float(none["others_scores"].abs().sum()) == 0.0
    with pytest.raises(ValueError, match=r"other persons' poses"):
        save_priors(tmp_path / "bad.npz", [s], s.prior_xy[None], s.prior_scores[None],
                    others=(others_xy[None, :2], others_scores[None, :2]))  # fmt: skip
    with pytest.raises(ValueError, match="others_xy and others_scores"):
        replace(s, others_xy=others_xy)


def test_a_captured_prior_joint_is_the_nearest_other_persons_same_joint() -> None:
    from diffpose.data.transforms import corrupt_prior

    xy = np.tile(np.arange(17, dtype=np.float64)[:, None], (1, 2))
    sc = np.full(17, 0.9, np.float32)
    others_xy = np.zeros((MAX_OTHER_PERSONS, 17, 2))
    others_xy[0], others_xy[1] = 100.0, 200.0
    others_scores = np.zeros((MAX_OTHER_PERSONS, 17), np.float32)
    others_scores[0, :10] = 0.5  # the nearest person has joints 0-9, the next all of them
    others_scores[1] = 0.7
    cfg = AugmentConfig(prior_capture_prob=1.0)
    got_xy, got_sc = corrupt_prior(xy, sc, cfg, np.random.default_rng(0), others_xy, others_scores)
    assert np.all(got_xy[:10] == 100.0) and np.all(got_sc[:10] == 0.5)
    assert np.all(got_xy[10:] == 200.0) and np.all(got_sc[10:] == 0.7)
    # nobody else: nothing to take
    alone = np.zeros_like(others_scores)
    rng = np.random.default_rng(0)
    same_xy, same_sc = corrupt_prior(xy, sc, cfg, rng, others_xy, alone)
    assert np.array_equal(same_xy, xy) and np.array_equal(same_sc, sc)
    half_xy, _ = corrupt_prior(
        xy, sc, AugmentConfig(prior_capture_prob=0.5), np.random.default_rng(1), others_xy,
        others_scores,
    )  # fmt: skip
    assert 0 < int((half_xy[:, 0] != xy[:, 0]).sum()) < 17
    assert corrupt_prior(xy, sc, cfg, np.random.default_rng(0))[0] is xy  # no others given


def test_a_refiner_told_of_the_others_refuses_samples_without_them(tmp_path) -> None:
    from diffpose.validation import predict_samples

    with pytest.raises(ValueError, match="the samples carry none"):
        predict_samples(_others_model().eval(), [_sample(tmp_path)], steps=1, ensemble=1)
