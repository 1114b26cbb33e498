"""Inference precision names and the bfloat16 attention path."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from diffpose.precision import native_bf16, resolve_precision
from diffpose.strl import BF16_MATMUL_MAX_TOKENS, _attention


def test_resolve_precision() -> None:
    assert resolve_precision("fp32", "cpu") == torch.float32
    assert resolve_precision("bf16", "cpu") == torch.bfloat16
    auto = torch.bfloat16 if native_bf16("cpu") else torch.float32
    assert resolve_precision("auto", "cpu") == auto
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("fp16", "cpu")


@pytest.mark.parametrize("tokens", [5, 192, BF16_MATMUL_MAX_TOKENS + 40])
def test_bf16_attention_matches_float32(tokens: int) -> None:
    g = torch.Generator().manual_seed(0)
    q, k, v = torch.randn(3, 4, 2, tokens, 16, generator=g).unbind(0)
    ref = F.scaled_dot_product_attention(q, k, v)
    out = _attention(q.bfloat16(), k.bfloat16(), v.bfloat16())
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), ref, atol=0.03, rtol=0.03)
    torch.testing.assert_close(_attention(q, k, v), ref)  # float32 is the fused kernel
