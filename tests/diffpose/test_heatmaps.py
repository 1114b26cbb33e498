"""Heatmap encoding, signal mapping and decoding."""

from __future__ import annotations

import torch

from diffpose.heatmaps import (
    decode_heatmaps,
    decode_heatmaps_dark,
    flip_heatmaps_back,
    heatmap_to_crop_xy,
    heatmaps_to_signal,
    keypoints_to_heatmaps,
    signal_to_heatmaps,
)
from diffpose.keypoints import flip_permutation


def test_encode_decode_round_trip_within_a_quarter_pixel():
    g = torch.Generator().manual_seed(0)
    xy = torch.rand((4, 17, 2), generator=g) * torch.tensor([45.0, 61.0]) + 1.0
    hm = keypoints_to_heatmaps(xy, (64, 48), sigma=2.0)
    assert hm.shape == (4, 17, 64, 48)
    assert float(hm.max()) <= 1.0
    dec, scores = decode_heatmaps(hm)
    assert (dec - xy).abs().max() <= 0.26
    assert bool((scores > 0.85).all())
    assert torch.allclose(heatmap_to_crop_xy(dec), dec * 4)


def test_integer_keypoint_has_peak_one():
    hm = keypoints_to_heatmaps(torch.tensor([[[10.0, 20.0]]]), (64, 48))
    assert float(hm[0, 0, 20, 10]) == 1.0


def test_signal_mapping():
    hm = torch.tensor([0.0, 0.5, 1.0])
    sig = heatmaps_to_signal(hm, 2.0)
    assert torch.allclose(sig, torch.tensor([-2.0, 0.0, 2.0]))
    assert torch.allclose(signal_to_heatmaps(sig, 2.0), hm)
    assert float(signal_to_heatmaps(torch.tensor(5.0), 2.0)) == 1.0


def test_flip_back_swaps_joints_and_mirrors():
    xy = torch.zeros(1, 17, 2)
    xy[0, :, 0] = torch.arange(17) + 10.0
    xy[0, :, 1] = 30.0
    hm = keypoints_to_heatmaps(xy, (64, 48))
    flipped = hm.flip(-1)[:, list(flip_permutation())]
    back = flip_heatmaps_back(flipped, flip_permutation())
    dec, _ = decode_heatmaps(back)
    # Mirroring in heatmap space shifts by at most one pixel (the HRNet shift convention).
    assert (dec - xy).abs().max() <= 1.01


def test_dark_decoding_finds_sub_pixel_peaks_the_quarter_shift_cannot():
    """DARK's Taylor step recovers a Gaussian's centre to well under a tenth of a heatmap
    pixel (the quarter shift: up to a quarter), with the same peak scores; near the border,
    or where the map has no maximum to step to, it keeps the argmax."""
    g = torch.Generator().manual_seed(1)
    xy = torch.rand((8, 17, 2), generator=g) * torch.tensor([40.0, 56.0]) + 4.0
    hm = keypoints_to_heatmaps(xy, (64, 48), sigma=2.0)
    dark, scores = decode_heatmaps_dark(hm)
    quarter, quarter_scores = decode_heatmaps(hm)
    assert (dark - xy).norm(dim=-1).max() < 0.05
    assert (quarter - xy).norm(dim=-1).mean() > 4 * (dark - xy).norm(dim=-1).mean()
    torch.testing.assert_close(scores, quarter_scores)
    assert dark.shape == (8, 17, 2)
    edge = keypoints_to_heatmaps(torch.tensor([[[0.3, 30.0]]]), (64, 48), sigma=2.0)
    assert decode_heatmaps_dark(edge)[0][0, 0, 0] == 0.0  # the argmax column, unmoved
    flat = torch.zeros(1, 1, 64, 48)
    flat[0, 0, 30, 20] = 1.0  # a lone spike: the blurred log map is still a maximum there
    torch.testing.assert_close(decode_heatmaps_dark(flat)[0], torch.tensor([[[20.0, 30.0]]]))
    valley = torch.ones(1, 1, 64, 48)
    valley[0, 0, 30, 20] = 2.0  # no curvature to step on in the flat blurred plateau
    assert torch.isfinite(decode_heatmaps_dark(valley)[0]).all()
