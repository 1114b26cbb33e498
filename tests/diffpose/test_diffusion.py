"""Cosine schedule, q_sample and DDIM sampling (§3.1, §3.4, Algorithm 2)."""

from __future__ import annotations

import pytest
import torch

from diffpose.diffusion import (
    cosine_alphas_cumprod,
    ddim_sample,
    ddim_time_pairs,
    q_sample,
)


def test_cosine_schedule_values():
    a = cosine_alphas_cumprod(1000, 0.008)
    assert a.shape == (1000,)
    assert float(a[999]) == pytest.approx(2.43e-9, rel=1e-2)
    assert float(a[749]) == pytest.approx(0.14427, abs=1e-5)
    assert float(a[499]) == pytest.approx(0.49384, abs=1e-5)
    assert float(a[249]) == pytest.approx(0.84701, abs=1e-5)
    assert bool((a[1:] < a[:-1]).all())


def test_time_pairs_follow_algorithm_2():
    assert ddim_time_pairs(4) == [(999, 749), (749, 499), (499, 249), (249, -1)]
    assert ddim_time_pairs(1) == [(999, -1)]
    assert len(ddim_time_pairs(10)) == 10
    with pytest.raises(ValueError):
        ddim_time_pairs(0)


def test_q_sample_at_t0_is_x0():
    a = cosine_alphas_cumprod()
    x0 = torch.randn(3, 17, 8, 6)
    noise = torch.randn_like(x0)
    xt = q_sample(x0, torch.zeros(3, dtype=torch.long), a, noise)
    assert float((1 - a[0]).sqrt()) < 0.01  # the noise std left at t=0
    assert (xt - x0).abs().max() < 0.05
    far = q_sample(x0, torch.full((3,), 999), a, noise)
    assert torch.allclose(far, noise, atol=1e-3)


@pytest.mark.parametrize("steps", [1, 2, 4])
def test_perfect_denoiser_recovers_x0(steps):
    a = cosine_alphas_cumprod()
    x0 = torch.rand(2, 17, 8, 6) * 4 - 2
    calls = []

    def perfect(x_t, t):
        calls.append(int(t[0]))
        return x0

    out = ddim_sample(perfect, torch.randn_like(x0), a, steps=steps, clip=2.0)
    assert torch.allclose(out, x0)
    assert len(calls) == steps and calls[0] == 999


def _toy_denoiser(x_t, t):
    return torch.tanh(x_t * 0.5) + 0.001 * t.float().view(-1, 1, 1, 1)


@pytest.mark.parametrize("eta", [0.0, 0.5])
def test_ddim_is_deterministic_for_a_fixed_generator(eta):
    a = cosine_alphas_cumprod()

    def run(seed):
        g = torch.Generator().manual_seed(seed)
        x_T = torch.randn((2, 17, 8, 6), generator=g)
        return ddim_sample(_toy_denoiser, x_T, a, steps=4, eta=eta, generator=g)

    assert torch.equal(run(0), run(0))
    assert not torch.equal(run(0), run(1))
