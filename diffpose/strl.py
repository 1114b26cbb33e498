"""SpatioTemporal Representation Learner, STRL (§3.2, Eq. 3).

Per-frame backbone features are patch-embedded, given a learnable position embedding per frame
and position (E_POS), concatenated over the 2δ+1 frames, encoded by L pre-norm Transformer
layers (MHSA + FFN), layer-normed, and aggregated across the frame axis by an MLP into the
condition 𝔽 (C, h, w), which every denoising step reuses.

With patch_size p > 1 the Transformer works on a p-times coarser token grid, (T·n/p²)²
attention scores instead of (T·n)², and ``key_frame_skip`` adds the key frame's own
full-resolution features to 𝔽 through a 1×1 convolution, so the condition keeps per-position
detail.

Shape letters: B batch, T frames (2δ+1), C channels, h,w feature map, n tokens per frame,
D token width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MultiHeadSelfAttention(nn.Module):
    """MHSA with fused qkv projection and PyTorch's scaled-dot-product attention kernel."""

    def __init__(self, *, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.qkv(x).view(b, n, 3, self.num_heads, d // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        return self.proj(_attention(q, k, v).transpose(1, 2).reshape(b, n, d))


#: Longest sequence for which bfloat16 attention on a CPU is computed as plain matmuls.
BF16_MATMUL_MAX_TOKENS = 256


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q kᵀ / √d) v over (B, heads, n, d_head).

    PyTorch's fused kernel, but for bfloat16 on a CPU (bfloat16 inference weights, see
    DiffPose.set_inference_dtype): there the fused kernel is slower than in float32, so short
    sequences (the CPU preset's 240 STRL tokens, the decoder's 16×12 grid) use plain bfloat16
    matmuls and softmax, and long ones go back to the float32 kernel.
    """
    if q.dtype != torch.bfloat16 or q.device.type != "cpu":
        return F.scaled_dot_product_attention(q, k, v)
    if q.shape[-2] > BF16_MATMUL_MAX_TOKENS:
        return F.scaled_dot_product_attention(q.float(), k.float(), v.float()).to(q.dtype)
    scores = torch.matmul(q * q.shape[-1] ** -0.5, k.transpose(-1, -2))
    return torch.matmul(torch.softmax(scores, dim=-1), v)


class TransformerLayer(nn.Module):
    """Pre-norm encoder layer: x + MHSA(LN(x)), then x + FFN(LN(x)) (Eq. 3, lines 2-3)."""

    def __init__(self, *, dim: int, num_heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        hidden = max(1, int(dim * mlp_ratio))
        self.norm1 = nn.LayerNorm(dim)
        self.attn = MultiHeadSelfAttention(dim=dim, num_heads=num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class STRL(nn.Module):
    """SpatioTemporal Representation Learner (§3.2, Eq. 3).

    Args:
        in_channels: backbone feature channels.
        num_frames: T = 2δ+1.
        feature_size: (h, w) of each frame's feature map (16×12 for 256×192 crops).
        dim: token width D.
        depth: number L of Transformer layers.
        num_heads: attention heads.
        mlp_ratio: FFN hidden width / D.
        patch_size: p, side of the patches embedded into one token (p=1: one per position).
        mlp_hidden: hidden width of the frame-aggregating MLP.
        out_channels: channels C of the condition 𝔽.
        key_frame_skip: add a 1×1-conv projection of the key frame's features to 𝔽.
    """

    def __init__(
        self,
        *,
        in_channels: int,
        num_frames: int,
        feature_size: tuple[int, int],
        dim: int,
        depth: int,
        num_heads: int,
        mlp_ratio: float,
        patch_size: int,
        mlp_hidden: int,
        out_channels: int,
        key_frame_skip: bool = False,
    ) -> None:
        super().__init__()
        h, w = feature_size
        if h % patch_size or w % patch_size:
            raise ValueError(f"patch_size {patch_size} does not divide {h}×{w}")
        self.num_frames = num_frames
        self.feature_size = (h, w)
        self.patch_size = patch_size
        self.out_channels = out_channels
        self.grid = (h // patch_size, w // patch_size)
        n = self.grid[0] * self.grid[1]
        # Patch embedding of each frame's spatially arranged features (§3.2).
        self.patch_embed = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)
        # E_POS: one learnable embedding per frame and position (Eq. 3, line 1).
        self.pos_embed = nn.Parameter(torch.zeros(1, num_frames, n, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.layers = nn.ModuleList(
            TransformerLayer(dim=dim, num_heads=num_heads, mlp_ratio=mlp_ratio)
            for _ in range(depth)
        )
        self.norm = nn.LayerNorm(dim)
        # MLP over the concatenated frame tokens of each position → 𝔽 (Eq. 3, last line).
        self.aggregate = nn.Sequential(
            nn.Linear(num_frames * dim, mlp_hidden),
            nn.GELU(),
            nn.Linear(mlp_hidden, out_channels * patch_size * patch_size),
        )
        # Full-resolution evidence of the key frame t (the middle of the clip) for 𝔽.
        self.key_skip = nn.Conv2d(in_channels, out_channels, 1) if key_frame_skip else None

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, C_in, h, w) per-frame features → condition 𝔽 (B, C, h, w)."""
        b, t, c, h, w = features.shape
        if t != self.num_frames or (h, w) != self.feature_size:
            raise ValueError(
                f"STRL expects (B, {self.num_frames}, C, {self.feature_size[0]}, "
                f"{self.feature_size[1]}) features, got {tuple(features.shape)}"
            )
        tokens = self.patch_embed(features.reshape(b * t, c, h, w))  # (B·T, D, gh, gw)
        d = tokens.shape[1]
        tokens = tokens.flatten(2).transpose(1, 2).reshape(b, t, -1, d) + self.pos_embed
        x = tokens.reshape(b, -1, d)  # Concat over frames: (B, T·n, D)
        for layer in self.layers:
            x = layer(x)
        x = self.norm(x).reshape(b, t, -1, d).permute(0, 2, 1, 3).reshape(b, -1, t * d)
        x = self.aggregate(x)  # (B, n, C·p·p)
        p, (gh, gw) = self.patch_size, self.grid
        x = x.view(b, gh, gw, self.out_channels, p, p).permute(0, 3, 1, 4, 2, 5)
        x = x.reshape(b, self.out_channels, h, w)
        if self.key_skip is not None:
            x = x + self.key_skip(features[:, t // 2])
        return x
