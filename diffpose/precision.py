"""Inference precision: float32, or bfloat16 weights where the device computes it natively.

bfloat16 (DiffPose.set_inference_dtype) makes the backbone, STRL and decoder faster per person
on CPUs with AVX512-BF16 or AMX (bench/bench_diffpose.py; figures in the README, Performance);
elsewhere it is emulated
and slower, so ``"auto"`` picks it only there and on CUDA devices that support it. Training is
unaffected (train.py has its own AMP on CUDA); the diffusion arithmetic and heatmap decoding
stay float32.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported inside the functions: PRECISIONS stays a light import
    import torch

__all__ = ["PRECISIONS", "native_bf16", "resolve_precision"]

PRECISIONS = ("auto", "fp32", "bf16")


def native_bf16(device: str | torch.device) -> bool:
    """Whether ``device`` computes bfloat16 matmuls natively (not emulated)."""
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if dev.type != "cpu":
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def resolve_precision(precision: str, device: str | torch.device) -> torch.dtype:
    """``"fp32"`` → float32, ``"bf16"`` → bfloat16, ``"auto"`` → bfloat16 where native.

    Raises:
        ValueError: unknown name.
    """
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "bf16" or (precision == "auto" and native_bf16(device)):
        return torch.bfloat16
    return torch.float32
