"""Pose-Decoder with Lookup-based Multi-Scale Feature Interaction, LMSFI (§3.3, Eqs. 4-5).

The decoder f_θ(x_t, 𝔽, t) predicts x0 (the heatmap signal) from the noisy heatmap x_t, the
STRL condition 𝔽 and the step t. Everything that depends on 𝔽 only — its 1×/2×/4× deconvolved
copies 𝔽¹, 𝔽², 𝔽³ and their "global context" half of each fusion layer — is computed once per
clip by :meth:`PoseDecoder.prepare` and reused for every step and ensemble member: a layer
applied to the concatenation A⊙𝔽 ⊕ 𝔽 equals W_a(A⊙𝔽) + W_b(𝔽), and W_b(𝔽) does not change.

Shape letters: B clips, N ensemble members per clip (the decoder runs on B·N samples and
broadcasts the cached condition), K keypoints, C channels, h,w feature map (16×12),
H,W heatmap (64×48), n = h·w tokens.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .strl import TransformerLayer


def sinusoidal_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer-style sinusoidal embedding of integer steps t (B,) → (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / max(half - 1, 1))
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=-1)


class StepEmbedding(nn.Module):
    """Step index t → sinusoidal → MLP → (scale, shift) of the embedded heatmap (§3.3)."""

    def __init__(self, *, dim: int, out_channels: int) -> None:
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(
            nn.Linear(dim, dim * 4), nn.GELU(), nn.Linear(dim * 4, out_channels * 2)
        )

    def forward(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        emb = sinusoidal_embedding(t, self.dim).to(self.mlp[0].weight.dtype)
        scale, shift = self.mlp(emb).chunk(2, dim=-1)
        return scale[..., None, None], shift[..., None, None]


class ConditionCache(NamedTuple):
    """Per-clip tensors reused by every denoising step and ensemble member (batch B)."""

    f1: torch.Tensor  # 𝔽¹ as tokens (B, n, d1)
    g1: torch.Tensor  # global-context half of the low-res fusion (B, n, d1)
    f2: torch.Tensor | None  # 𝔽² (B, d2, 2h, 2w)
    g2: torch.Tensor | None
    f3: torch.Tensor | None  # 𝔽³ (B, d3, 4h, 4w)
    g3: torch.Tensor | None
    prior: torch.Tensor | None = None  # detector-pose prior as x0 signal (B, K, H, W)

    def rows(self, rows: torch.Tensor) -> ConditionCache:
        """The condition of the clips ``rows`` (every field is per clip)."""
        return ConditionCache(*(None if v is None else v[rows] for v in self))


def _per_clip(x: torch.Tensor, batch: int) -> torch.Tensor:
    """(B·N, ...) → (B, N, ...) to broadcast against per-clip (B, 1, ...) tensors."""
    return x.view(batch, x.shape[0] // batch, *x.shape[1:])


class LowResInteraction(nn.Module):
    """Eq. 4 at 16×12: SeRef → Sq → sigmoid → A¹; Trans(A¹⊙𝔽¹ ⊕ 𝔽¹).

    With ``lookup=False`` it is the Direct baseline (Table 4): Trans(x̄¹ ⊕ 𝔽¹), no mask.
    """

    def __init__(
        self,
        *,
        dim: int,
        num_tokens: int,
        num_heads: int,
        refine_depth: int,
        interact_depth: int,
        mlp_ratio: float,
        out_channels: int,
        lookup: bool = True,
    ) -> None:
        super().__init__()
        self.lookup = lookup
        self.heat_pos = nn.Parameter(torch.zeros(1, num_tokens, dim))
        self.ctx_pos = nn.Parameter(torch.zeros(1, num_tokens, dim))
        nn.init.trunc_normal_(self.heat_pos, std=0.02)
        nn.init.trunc_normal_(self.ctx_pos, std=0.02)

        def layers(depth: int) -> nn.ModuleList:
            return nn.ModuleList(
                TransformerLayer(dim=dim, num_heads=num_heads, mlp_ratio=mlp_ratio)
                for _ in range(depth)
            )

        self.refine = layers(refine_depth if lookup else 0)  # SeRef
        self.local_proj = nn.Linear(dim, dim, bias=False)  # W_a on A¹⊙𝔽¹ (Direct: on x̄¹)
        self.global_proj = nn.Linear(dim, dim)  # W_b on 𝔽¹, cached per clip
        self.interact = layers(interact_depth)  # Trans
        self.out = nn.Linear(dim, out_channels)

    def prepare(self, f1_tokens: torch.Tensor) -> torch.Tensor:
        return self.global_proj(f1_tokens) + self.ctx_pos

    def forward(self, x1: torch.Tensor, f1: torch.Tensor, g1: torch.Tensor) -> torch.Tensor:
        """x1 (B·N, d, h, w) heatmap features; f1, g1 (B, n, d) → (B·N, out, h, w)."""
        bn, d, h, w = x1.shape
        b = f1.shape[0]
        x = x1.flatten(2).transpose(1, 2)  # (B·N, n, d)
        if self.lookup:
            x = x + self.heat_pos
            for layer in self.refine:
                x = layer(x)
            mask = torch.sigmoid(x.amax(dim=-1, keepdim=True))  # A¹ = Sigmoid(Sq(x̄̄¹))
            local = _per_clip(mask, b) * f1[:, None]  # A¹ ⊙ 𝔽¹
        else:
            local = _per_clip(x, b)
        y = (self.local_proj(local) + g1[:, None]).reshape(bn, h * w, d)
        for layer in self.interact:
            y = layer(y)
        return self.out(y).transpose(1, 2).reshape(bn, -1, h, w)


class ConvInteraction(nn.Module):
    """Eq. 5 at 32×24 or 64×48: Conv → Sq → sigmoid → A^j; Conv(A^j⊙𝔽^j ⊕ 𝔽^j).

    With ``lookup=False`` it is the Direct baseline: Conv(x̄^j ⊕ 𝔽^j).
    """

    def __init__(self, *, dim: int, out_channels: int, lookup: bool = True) -> None:
        super().__init__()
        self.lookup = lookup
        self.refine = nn.Conv2d(dim, dim, 3, padding=1) if lookup else nn.Identity()
        self.local_conv = nn.Conv2d(dim, dim, 3, padding=1, bias=False)
        self.global_conv = nn.Conv2d(dim, dim, 3, padding=1)  # cached per clip
        self.out = nn.Conv2d(dim, out_channels, 1)

    def prepare(self, f: torch.Tensor) -> torch.Tensor:
        return self.global_conv(f)

    def forward(self, x: torch.Tensor, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """x (B·N, d, H', W'); f, g (B, d, H', W') → (B·N, out, H', W')."""
        b = f.shape[0]
        if self.lookup:
            mask = torch.sigmoid(self.refine(x).amax(dim=1, keepdim=True))  # A^j
            local = (_per_clip(mask, b) * f[:, None]).flatten(0, 1)  # A^j ⊙ 𝔽^j
        else:
            local = x
        y = _per_clip(self.local_conv(local), b) + g[:, None]
        return self.out(F.relu(y.flatten(0, 1)))


class PoseDecoder(nn.Module):
    """f_θ(x_t, 𝔽, t) → x0 heatmap signal (§3.3).

    Args:
        cond_channels: channels C of 𝔽.
        num_keypoints: K.
        feature_size: (h, w) of 𝔽; heatmaps are (4h, 4w).
        dims: widths (d1, d2, d3) at h×w, 2h×2w, 4h×4w.
        num_heads, refine_depth, interact_depth, mlp_ratio: low-resolution Transformers.
        head_channels: channels of the summed multi-scale representation.
        interaction: "lookup" (LMSFI) or "direct" (Table 4 baseline).
        scales: 3, or 1 for the Low-resolution baseline (Table 5).
        out_bias: initial bias of the head (the background level of the signal, −scale).
        prior: refine a prior pose (``DecoderConfig.prior``): the prior's signal maps enter
            beside x_t and the output is prior + correction, the correction head starting
            at zero so that an untrained decoder returns the prior.
        prior_others: with ``prior``, the prior carries K more maps, the other persons'
            joints (``DecoderConfig.prior_others``), which enter beside it; the output is
            still the prior pose (its first K maps) + correction.
        fine_channels: channels of a finer per-clip feature map at 2h×2w (the backbone's
            stride-8 map of the key frame, ``backbone.yolo_features`` "neck_p3"); given
            (> 0), :meth:`prepare` takes it and adds its 1×1 projection to 𝔽² before the
            ReLU, so 𝔽² and 𝔽³ carry detail that 𝔽 upsampled does not.
    """

    def __init__(
        self,
        *,
        cond_channels: int,
        num_keypoints: int,
        feature_size: tuple[int, int],
        dims: tuple[int, int, int],
        num_heads: int,
        refine_depth: int,
        interact_depth: int,
        mlp_ratio: float,
        head_channels: int,
        interaction: str = "lookup",
        scales: int = 3,
        out_bias: float = 0.0,
        prior: bool = False,
        prior_others: bool = False,
        fine_channels: int = 0,
    ) -> None:
        super().__init__()
        if interaction not in ("lookup", "direct") or scales not in (1, 3):
            raise ValueError(f"bad interaction {interaction!r} or scales {scales}")
        if fine_channels and scales != 3:
            raise ValueError("a finer feature map joins the 2h×2w scale: it needs scales 3")
        if prior_others and not prior:
            raise ValueError("prior_others needs prior")
        d1, d2, d3 = dims
        h, w = feature_size
        self.scales = scales
        self.prior = prior
        self.num_keypoints = num_keypoints
        #: maps of the ``prior`` argument: the prior pose's K, and the others' K
        self.prior_channels = num_keypoints * (2 if prior_others else 1) if prior else 0
        self.heatmap_size = (4 * h, 4 * w)
        lookup = interaction == "lookup"
        # Pairwise size-matched features (§3.3): deconvolutions give 𝔽 at 1×, 2×, 4× ...
        self.deconv1 = nn.ConvTranspose2d(cond_channels, d1, 3, stride=1, padding=1)
        if scales == 3:
            self.deconv2 = nn.ConvTranspose2d(cond_channels, d2, 4, stride=2, padding=1)
            self.deconv3 = nn.ConvTranspose2d(d2, d3, 4, stride=2, padding=1)
        self.fine_channels = fine_channels
        self.fine_proj = nn.Conv2d(fine_channels, d2, 1) if fine_channels else None
        # ... and strided convolutions give the noisy-heatmap features x̄³ → x̄² → x̄¹.
        self.heat_embed = nn.Conv2d(num_keypoints + self.prior_channels, d3, 1)
        self.step_embed = StepEmbedding(dim=max(32, d3 * 2), out_channels=d3)
        self.down2 = nn.Conv2d(d3, d2, 3, stride=2, padding=1)
        self.down1 = nn.Conv2d(d2, d1, 3, stride=2, padding=1)
        self.low = LowResInteraction(
            dim=d1,
            num_tokens=h * w,
            num_heads=num_heads,
            refine_depth=refine_depth,
            interact_depth=interact_depth,
            mlp_ratio=mlp_ratio,
            out_channels=head_channels,
            lookup=lookup,
        )
        if scales == 3:
            self.mid = ConvInteraction(dim=d2, out_channels=head_channels, lookup=lookup)
            self.high = ConvInteraction(dim=d3, out_channels=head_channels, lookup=lookup)
        self.head = nn.Conv2d(head_channels, num_keypoints, 3, padding=1)  # 3×3 detection head
        if prior:  # x0 = prior + head(...): start from the prior
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
        else:
            nn.init.constant_(self.head.bias, out_bias)

    def prepare(
        self,
        cond: torch.Tensor,
        prior: torch.Tensor | None = None,
        fine: torch.Tensor | None = None,
    ) -> ConditionCache:
        """Per-clip part of the decoder: 𝔽¹, 𝔽², 𝔽³ and their global-context projections;
        ``prior`` (B, K, H, W) is the prior pose as x0 signal (required iff ``self.prior``;
        (B, 2K, H, W) with ``prior_others``: then the other persons' joints follow);
        ``fine`` (B, fine_channels, 2h, 2w) the finer feature map (required iff
        ``fine_channels``)."""
        if bool(self.fine_channels) != (fine is not None):
            need = "needs" if self.fine_channels else "takes no"
            raise ValueError(f"this decoder {need} a finer feature map")
        if fine is not None and (
            tuple(fine.shape[:2]) != (cond.shape[0], self.fine_channels)
            or tuple(fine.shape[-2:]) != (2 * cond.shape[-2], 2 * cond.shape[-1])
        ):
            raise ValueError(
                f"fine must be (B={cond.shape[0]}, {self.fine_channels}, "
                f"{2 * cond.shape[-2]}, {2 * cond.shape[-1]}), got {tuple(fine.shape)}"
            )
        if self.prior != (prior is not None):
            need = "needs the detector's pose as prior" if self.prior else "takes no prior"
            raise ValueError(f"this decoder {need}")
        if prior is not None and (
            tuple(prior.shape[:2]) != (cond.shape[0], self.prior_channels)
            or tuple(prior.shape[-2:]) != self.heatmap_size
        ):
            raise ValueError(
                f"prior must be (B={cond.shape[0]}, {self.prior_channels}, "
                f"{self.heatmap_size}), got {tuple(prior.shape)}"
            )
        f1 = F.relu(self.deconv1(cond)).flatten(2).transpose(1, 2)
        g1 = self.low.prepare(f1)
        if self.scales == 1:
            return ConditionCache(f1, g1, None, None, None, None, prior)
        f2 = self.deconv2(cond)
        if self.fine_proj is not None:
            f2 = f2 + self.fine_proj(fine)
        f2 = F.relu(f2)
        f3 = F.relu(self.deconv3(f2))
        return ConditionCache(f1, g1, f2, self.mid.prepare(f2), f3, self.high.prepare(f3), prior)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, cache: ConditionCache) -> torch.Tensor:
        """x_t (B·N, K, H, W), t (B·N,) integer steps, cache of batch B → x0 (B·N, K, H, W)."""
        if x_t.shape[0] % cache.f1.shape[0]:
            raise ValueError(
                f"{x_t.shape[0]} samples is not a multiple of {cache.f1.shape[0]} clips"
            )
        scale, shift = self.step_embed(t)
        prior = None
        if cache.prior is not None:  # (B, K, H, W) → (B·N, K, H, W)
            b = cache.prior.shape[0]
            prior = cache.prior[:, None].expand(b, x_t.shape[0] // b, *cache.prior.shape[1:])
            prior = prior.reshape(x_t.shape[0], *cache.prior.shape[1:]).to(x_t.dtype)
            x_t = torch.cat([x_t, prior], dim=1)
        x3 = self.heat_embed(x_t) * (1 + scale) + shift  # step-adaptive x̄_t = x̄³
        x2 = F.relu(self.down2(x3))
        x1 = F.relu(self.down1(x2))
        h1, w1 = x1.shape[-2:]
        size = self.heatmap_size
        out = F.interpolate(self.low(x1, cache.f1, cache.g1), size=size, mode="bilinear")
        if self.scales == 3:
            mid = self.mid(x2, cache.f2, cache.g2)
            out = out + F.interpolate(mid, size=size, mode="bilinear")
            out = out + self.high(x3, cache.f3, cache.g3)
        if prior is not None:
            return prior[:, : self.num_keypoints] + self.head(out)  # the prior pose, corrected
        return self.head(out)  # Ĥ = x0 prediction
