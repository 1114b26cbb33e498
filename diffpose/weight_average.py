"""An exponential moving average (EMA) of a model's trained weights, for validation and saving.

Diffusion models and pose networks are commonly evaluated with EMA weights: the average of
the last few hundred optimiser steps is steadier than the last step's weights, which matters
here because two seeds of one recipe differ by up to a few points per joint group on video.
Only the parameters that train are averaged (a frozen backbone is left alone); the average
starts from the model's initial weights and is updated after every optimiser step:
``avg ← decay · avg + (1 − decay) · param``.

:meth:`WeightAverage.swapped_in` puts the averaged weights into the model for a ``with`` block
(validation, saving) and restores the trained ones after it, so training continues from its
own weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["WeightAverage"]


class WeightAverage:
    """EMA of ``model``'s trainable parameters.

    Args:
        model: the model being trained; its parameters with ``requires_grad`` are averaged.
        decay: weight of the old average per update, in (0, 1).
    """

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.names = [n for n, p in model.named_parameters() if p.requires_grad]
        params = dict(model.named_parameters())
        self.average = {n: params[n].detach().clone() for n in self.names}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """One step: move the average towards ``model``'s current weights."""
        params = dict(model.named_parameters())
        for n in self.names:
            self.average[n].lerp_(params[n].detach(), 1.0 - self.decay)

    @contextmanager
    def swapped_in(self, model: torch.nn.Module) -> Iterator[torch.nn.Module]:
        """``model`` with the averaged weights for the block; its own weights after it."""
        params = dict(model.named_parameters())
        trained = {n: params[n].detach().clone() for n in self.names}
        with torch.no_grad():
            for n in self.names:
                params[n].copy_(self.average[n])
        try:
            yield model
        finally:
            with torch.no_grad():
                for n in self.names:
                    params[n].copy_(trained[n])

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {n: t.clone() for n, t in self.average.items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        missing = set(self.names) - set(state)
        if missing:
            raise ValueError(f"EMA state lacks {len(missing)} weights, e.g. {sorted(missing)[:3]}")
        for n in self.names:
            self.average[n].copy_(state[n])
