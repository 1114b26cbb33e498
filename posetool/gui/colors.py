"""Stable colours per track id: the same id gets the same colour in every frame and run.

Hues step by the golden ratio so consecutive ids look different. Qt-free (RGB tuples).
"""

from __future__ import annotations

import colorsys

__all__ = ["track_rgb"]

_GOLDEN = 0.618033988749895


def track_rgb(track_id: int) -> tuple[int, int, int]:
    """An (r, g, b) colour in 0..255 for ``track_id``, bright enough on video."""
    hue = (0.11 + int(track_id) * _GOLDEN) % 1.0
    value = 0.95 if int(track_id) % 2 == 0 else 0.8
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, value)
    return round(r * 255), round(g * 255), round(b * 255)
