"""Diffusion process: cosine schedule, forward noising (Eq. 1) and DDIM sampling (Algorithm 2).

These are plain functions handed a denoiser ``denoise(x_t, t) -> x0_hat``; they never own the
network. The denoiser predicts x0 (§3.1, "we choose the former as done in [10, 11]").
Schedule and DDIM update follow DiffusionDet [10], on which the paper's Algorithm 2 is based.

Shape letters: B batch (here: every sample being denoised, ensemble members included).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
#: ``denoise_rows(x_t, t, rows) -> x0_hat`` for the batch rows ``rows`` (B') only.
RowDenoiser = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def cosine_alphas_cumprod(timesteps: int = 1000, s: float = 0.008) -> torch.Tensor:
    """ᾱ_t for t = 0..T−1 of the cosine schedule (§3.4, "monotonically decreasing cosine").

    As DiffusionDet ``cosine_beta_schedule``: betas from the ratio of consecutive cos² values,
    clipped to 0.999, then ᾱ = cumprod(1 − β). Returned as float64 (T,).
    """
    if timesteps <= 0:
        raise ValueError(f"timesteps must be > 0, got {timesteps}")
    x = torch.linspace(0, timesteps, timesteps + 1, dtype=torch.float64)
    f = torch.cos(((x / timesteps) + s) / (1 + s) * math.pi * 0.5) ** 2
    f = f / f[0]
    betas = (1 - f[1:] / f[:-1]).clamp(0, 0.999)
    return torch.cumprod(1.0 - betas, dim=0)


def _gather(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """values[t] shaped (B, 1, 1, ...) to broadcast against ``like``."""
    out = values.to(like.device)[t.long()].to(like.dtype)
    return out.view(-1, *([1] * (like.dim() - 1)))


def q_sample(
    x0: torch.Tensor, t: torch.Tensor, alphas_cumprod: torch.Tensor, noise: torch.Tensor
) -> torch.Tensor:
    """x_t = sqrt(ᾱ_t)·x0 + sqrt(1 − ᾱ_t)·ε (Eq. 1), t an integer tensor (B,)."""
    a = _gather(alphas_cumprod, t, x0)
    return a.sqrt() * x0 + (1.0 - a).sqrt() * noise


def predict_noise_from_x0(
    x_t: torch.Tensor, t: torch.Tensor, x0: torch.Tensor, alphas_cumprod: torch.Tensor
) -> torch.Tensor:
    """ε implied by x_t and a predicted x0: (x_t/sqrt(ᾱ) − x0) / sqrt(1/ᾱ − 1)."""
    a = _gather(alphas_cumprod, t, x_t)
    return (x_t / a.sqrt() - x0) / (1.0 / a - 1.0).sqrt()


def ddim_time_pairs(steps: int, timesteps: int = 1000) -> list[tuple[int, int]]:
    """(t_now, t_next) pairs of Algorithm 2: times = reversed(linspace(−1, T−1, steps+1)).

    E.g. steps=4, T=1000: (999, 749), (749, 499), (499, 249), (249, −1).
    """
    if not 1 <= steps <= timesteps:
        raise ValueError(f"steps must be in [1, {timesteps}], got {steps}")
    times = torch.linspace(-1, timesteps - 1, steps + 1).int().tolist()
    times = list(reversed(times))
    return list(zip(times[:-1], times[1:], strict=True))


def ddim_step(
    x_t: torch.Tensor,
    x0_hat: torch.Tensor,
    t_now: int,
    t_next: int,
    alphas_cumprod: torch.Tensor,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One DDIM update x_{t_now} → x_{t_next} given the predicted x0 (DDIM [57], Alg. 2 line 7).

    ``t_next < 0`` ends the chain and returns ``x0_hat``.
    """
    if t_next < 0:
        return x0_hat
    t = torch.full((x_t.shape[0],), t_now, dtype=torch.long, device=x_t.device)
    eps = predict_noise_from_x0(x_t, t, x0_hat, alphas_cumprod)
    a = float(alphas_cumprod[t_now])
    a_next = float(alphas_cumprod[t_next])
    sigma = eta * math.sqrt((1 - a / a_next) * (1 - a_next) / (1 - a))
    c = math.sqrt(max(1 - a_next - sigma**2, 0.0))
    out = x0_hat * math.sqrt(a_next) + c * eps
    if sigma > 0:
        noise = torch.randn(x_t.shape, generator=generator, device=x_t.device, dtype=x_t.dtype)
        out = out + sigma * noise
    return out


def ddim_sample(
    denoise: Denoiser,
    x_T: torch.Tensor,
    alphas_cumprod: torch.Tensor,
    steps: int,
    eta: float = 0.0,
    clip: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Algorithm 2: iterate the denoiser from x_T and return the last x0 prediction.

    Args:
        denoise: ``denoise(x_t, t) -> x0_hat`` with t an integer tensor (B,).
        x_T: (B, ...) starting noise.
        alphas_cumprod: ᾱ from :func:`cosine_alphas_cumprod`.
        steps: number of sampling steps (changeable without retraining, §3.5).
        eta: DDIM stochasticity (0 = deterministic given x_T).
        clip: clamp each x0 prediction to [−clip, clip] (the signal range), as DiffusionDet.
        generator: for the noise added when eta > 0.
    """
    x_t = x_T
    x0_hat = x_T
    for t_now, t_next in ddim_time_pairs(steps, len(alphas_cumprod)):
        t = torch.full((x_t.shape[0],), t_now, dtype=torch.long, device=x_t.device)
        x0_hat = denoise(x_t, t)
        if clip is not None:
            x0_hat = x0_hat.clamp(-clip, clip)
        if t_next >= 0:  # the last update (to t = −1) would only be discarded
            x_t = ddim_step(
                x_t, x0_hat, t_now, t_next, alphas_cumprod, eta=eta, generator=generator
            )
    return x0_hat


def own_step_inputs(
    denoise_rows: RowDenoiser,
    x_t: torch.Tensor,
    t: torch.Tensor,
    alphas_cumprod: torch.Tensor,
    prob: float,
    clip: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Training inputs as sampling makes them: ``x_t`` (B, ...) with the rows drawn at
    ``prob`` replaced by one deterministic DDIM step, to their own t, from the denoiser's own
    x0 estimate (clamped to ±``clip``) at t = T−1; at t = T−1 itself that is the starting
    noise. No gradient flows through the replaced rows.

    Trained on the label's x_t alone (Eq. 1), a denoiser at small t takes x_t for the answer,
    so its own errors, re-noised, are kept or made worse with every step; these inputs teach
    it to correct them against the label. Later steps' inputs are not made.
    """
    dev = x_t.device
    chosen = torch.rand(x_t.shape[0], generator=generator, device=dev) < prob
    if not bool(chosen.any()):
        return x_t
    t_start = len(alphas_cumprod) - 1
    rows = torch.nonzero(chosen).flatten()
    x_start = torch.randn(
        (len(rows), *x_t.shape[1:]), generator=generator, device=dev, dtype=x_t.dtype
    )
    t_rows = t[rows]
    t_first = torch.full_like(t_rows, t_start)
    with torch.no_grad():
        x0_own = denoise_rows(x_start, t_first, rows).clamp(-clip, clip)
        eps = predict_noise_from_x0(x_start, t_first, x0_own, alphas_cumprod)
        # ddim_step with eta 0, to a t per row (ddim_step takes one t_next for the batch)
        a = _gather(alphas_cumprod, t_rows, x_t)
        stepped = a.sqrt() * x0_own + (1.0 - a).sqrt() * eps
        stepped = torch.where((t_rows >= t_start).view_as(a), x_start, stepped)
    out = x_t.clone()
    out[rows] = stepped
    return out
