"""Keypoints ↔ Gaussian heatmaps ↔ diffusion signal space, and heatmap decoding.

§3.1: the data sample is the ground-truth heatmap x0 = H, "a 2D Gaussian centered at the
annotated joint location". Following DiffusionDet (the paper's [10]), heatmaps in [0, 1] are
mapped to a signal range x0 = (2H − 1)·scale before noise is added, and back after sampling.

Coordinates: heatmap pixel (i, j) covers crop pixel (4i, 4j) for a 256×192 crop and a 64×48
heatmap (``crop_xy = heatmap_xy · stride``, the HRNet/DCPose convention, no half-pixel offset).

Shape letters: B batch, K keypoints, h,w heatmap.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def keypoints_to_heatmaps(
    keypoints_xy: torch.Tensor, heatmap_size: tuple[int, int], sigma: float = 2.0
) -> torch.Tensor:
    """Gaussian heatmaps with an unnormalised peak of 1 at each keypoint.

    Args:
        keypoints_xy: (B, K, 2) in heatmap pixels (sub-pixel positions allowed).
        heatmap_size: (h, w).
        sigma: Gaussian sigma in heatmap pixels.

    Returns:
        (B, K, h, w) float32 heatmaps in [0, 1]. Joints outside the map give near-zero maps;
        weight unlabelled joints with 0 in the loss rather than relying on this.
    """
    h, w = heatmap_size
    kp = keypoints_xy.to(torch.float32)
    ys = torch.arange(h, dtype=torch.float32, device=kp.device).view(1, 1, h, 1)
    xs = torch.arange(w, dtype=torch.float32, device=kp.device).view(1, 1, 1, w)
    dx2 = (xs - kp[..., 0, None, None]) ** 2
    dy2 = (ys - kp[..., 1, None, None]) ** 2
    return torch.exp(-(dx2 + dy2) / (2.0 * sigma * sigma))


def prior_heatmaps(
    keypoints_xy: torch.Tensor,
    scores: torch.Tensor,
    heatmap_size: tuple[int, int],
    sigma: float = 2.0,
) -> torch.Tensor:
    """Heatmaps of a prior pose (the detector's keypoints): Gaussians with peak = confidence.

    Args:
        keypoints_xy: (B, K, 2) in heatmap pixels.
        scores: (B, K) confidences in [0, 1]; 0 for joints the detector does not give.

    Returns:
        (B, K, h, w) float32 in [0, 1].
    """
    peak = scores.to(torch.float32).clamp(0.0, 1.0)[..., None, None]
    return keypoints_to_heatmaps(keypoints_xy, heatmap_size, sigma) * peak


def heatmaps_to_signal(heatmaps: torch.Tensor, scale: float = 2.0) -> torch.Tensor:
    """x0 = (2H − 1)·scale, clamped to [−scale, scale] (DiffusionDet signal scaling)."""
    return ((heatmaps * 2.0 - 1.0) * scale).clamp(-scale, scale)


def signal_to_heatmaps(
    signal: torch.Tensor, scale: float = 2.0, clamp: bool = True
) -> torch.Tensor:
    """Inverse of :func:`heatmaps_to_signal`: H = (x0/scale + 1)/2, clamped to [0, 1] by default."""
    heatmaps = signal.mul(0.5 / scale).add_(0.5)  # one new tensor (B·N maps at inference)
    return heatmaps.clamp_(0.0, 1.0) if clamp else heatmaps


def decode_heatmaps(heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Argmax decoding with a quarter-pixel shift toward the higher neighbour (HRNet/DCPose).

    Args:
        heatmaps: (..., K, h, w).

    Returns:
        ``(keypoints_xy, scores)``: (..., K, 2) in heatmap pixels and (..., K) peak values.
    """
    *lead, h, w = heatmaps.shape
    flat = heatmaps.reshape(-1, h * w)
    scores, px, py = _argmax(flat, w)
    rows = torch.arange(flat.shape[0], device=heatmaps.device)

    def at(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return flat[rows, y.clamp(0, h - 1) * w + x.clamp(0, w - 1)]

    # Shift only where both neighbours exist (HRNet: 1 < px < w-1), as the reference loaders do.
    dx = torch.sign(at(py, px + 1) - at(py, px - 1)) * ((px > 0) & (px < w - 1))
    dy = torch.sign(at(py + 1, px) - at(py - 1, px)) * ((py > 0) & (py < h - 1))
    xy = torch.stack([px.to(heatmaps.dtype) + 0.25 * dx, py.to(heatmaps.dtype) + 0.25 * dy], -1)
    return xy.reshape(*lead, 2), scores.reshape(*lead)


#: :func:`decode_heatmaps_dark`'s Gaussian blur kernel for 64×48 heatmaps (DARK, mmpose's
#: ``blur_kernel_size`` default; OpenCV's sigma for it: 2.0).
DARK_KERNEL = 11


def decode_heatmaps_dark(
    heatmaps: torch.Tensor, kernel: int = DARK_KERNEL
) -> tuple[torch.Tensor, torch.Tensor]:
    """Distribution-aware decoding (DARK, Zhang et al., CVPR 2020): the argmax moved by one
    Newton step on the log of the blurred heatmap, -H⁻¹∇, as mmpose's ``refine_keypoints_dark``
    (a Gaussian blur with zero padding, scaled so that its height at the peak is the map's,
    the log clipped to [0.001, 50], derivatives by central differences); only where the
    argmax is 2 px inside the map and the Hessian there is negative definite (a maximum),
    else the plain argmax. The blur is evaluated only on the 5×5 pixels around each argmax
    the differences read (a whole-map blur cost about 2 ms a person here).

    Args:
        heatmaps: (..., K, h, w).
        kernel: the odd Gaussian kernel size (sigma as OpenCV derives it from the size).

    Returns:
        ``(keypoints_xy, scores)``: (..., K, 2) in heatmap pixels and (..., K) peak values
        (of the heatmaps as given, as :func:`decode_heatmaps`).
    """
    *lead, h, w = heatmaps.shape
    maps = heatmaps.reshape(-1, h, w).float()
    scores, px, py = _argmax(maps.reshape(len(maps), h * w), w)
    sigma = 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8
    taps = torch.arange(kernel, dtype=maps.dtype, device=maps.device) - (kernel - 1) / 2
    g = torch.exp(-(taps**2) / (2 * sigma**2))
    g = g / g.sum()
    reach = kernel // 2 + 2  # the blur's half-width plus the differences' 2 px
    side = 2 * reach + 1
    padded = F.pad(maps, (reach, reach, reach, reach))  # zeros, as mmpose pads
    offsets = torch.arange(side, device=maps.device)
    rows = torch.arange(len(maps), device=maps.device)[:, None, None]
    patch = padded[rows, (py[:, None] + offsets)[:, :, None], (px[:, None] + offsets)[:, None, :]]
    blurred = (patch.unfold(2, kernel, 1) @ g).unfold(1, kernel, 1) @ g  # (M, 5, 5)
    scale = scores / blurred[:, 2, 2].clamp_min(1e-10)
    log_map = (blurred * scale[:, None, None]).clamp(0.001, 50.0).log()

    def at(dy: int, dx: int) -> torch.Tensor:
        return log_map[:, 2 + dy, 2 + dx]

    dx = 0.5 * (at(0, 1) - at(0, -1))
    dy = 0.5 * (at(1, 0) - at(-1, 0))
    dxx = 0.25 * (at(0, 2) - 2 * at(0, 0) + at(0, -2))
    dxy = 0.25 * (at(1, 1) - at(-1, 1) - at(1, -1) + at(-1, -1))
    dyy = 0.25 * (at(2, 0) - 2 * at(0, 0) + at(-2, 0))
    det = dxx * dyy - dxy * dxy
    inside = (px > 1) & (px < w - 2) & (py > 1) & (py < h - 2)
    ok = inside & (det > 0) & (dxx < 0)
    safe = torch.where(ok, det, torch.ones_like(det))
    off_x = torch.where(ok, -(dyy * dx - dxy * dy) / safe, torch.zeros_like(det))
    off_y = torch.where(ok, -(dxx * dy - dxy * dx) / safe, torch.zeros_like(det))
    xy = torch.stack([px.to(maps.dtype) + off_x, py.to(maps.dtype) + off_y], -1)
    return xy.to(heatmaps.dtype).reshape(*lead, 2), scores.to(heatmaps.dtype).reshape(*lead)


def _argmax(flat: torch.Tensor, w: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(M, h·w) flattened maps → (M,) peak values and the peaks' (M,) column and row."""
    scores, idx = flat.max(dim=1)
    return scores, (idx % w).long(), torch.div(idx, w, rounding_mode="floor").long()


def heatmap_to_crop_xy(keypoints_xy: torch.Tensor, stride: float = 4.0) -> torch.Tensor:
    """Heatmap pixels → crop pixels (×4 for 64×48 heatmaps of a 256×192 crop)."""
    return keypoints_xy * stride


def flip_heatmaps_back(heatmaps: torch.Tensor, flip_perm: tuple[int, ...]) -> torch.Tensor:
    """Undo a horizontal flip of the input on predicted heatmaps (flip test).

    Mirrors the width, swaps left/right joints and shifts one pixel right, as HRNet/DCPose do:
    a crop flipped with ``x' = W − 1 − x`` lands 0.75 heatmap px left of the mirrored map.
    """
    out = heatmaps.flip(-1)[..., list(flip_perm), :, :]
    shifted = out.clone()
    shifted[..., 1:] = out[..., :-1]
    return shifted
