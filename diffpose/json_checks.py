"""Values a loaded JSON document must not hold before its numbers become float32 arrays.

Python's ``json`` reads ``NaN``, ``Infinity`` and ``1e400`` (as infinity) without a word, and
numbers beyond float32 turn into infinity once cast; deep nesting exhausts the recursion of
every later walk. :func:`first_unsafe_value` names the first such value by its field path
(``annotations[3].keypoints[7]``), so a reader can say where a file is broken.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["FLOAT32_MAX", "MAX_DEPTH", "first_unsafe_value"]

FLOAT32_MAX = 3.4028234663852886e38
#: Deepest nesting accepted (PoseTrack 2017 needs 7: annolist/annorect/annopoints/point/x).
MAX_DEPTH = 32


def _join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else str(key)


def _numbers_fine(values: list) -> bool:
    """True when ``values`` are all numbers, finite and within float32 (one C-speed sum)."""
    try:
        return math.fsum(map(abs, values)) <= FLOAT32_MAX
    except (TypeError, OverflowError):  # not all numbers, or a sum beyond float64
        return False


def _problem(value: Any, depth: int, max_depth: int) -> str:
    """What is wrong with a scalar (or a container that is too deep); "" when nothing."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return ""
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return f"{value} is not a finite number"
        if abs(value) <= FLOAT32_MAX:
            return ""
        shown = (
            f"{value:.3g}"
            if isinstance(value, float)
            else f"an integer of {len(str(value))} digits"
        )
        return f"{shown} is beyond the float32 range"
    return f"nested deeper than {max_depth} levels" if depth >= max_depth else ""


def first_unsafe_value(data: Any, max_depth: int = MAX_DEPTH) -> tuple[str, str] | None:
    """The field path and problem of the first non-finite number, number beyond float32 or
    container nested deeper than ``max_depth``; None when there is none.

    Walks iteratively (no recursion), in document order; lists of plain numbers are checked
    in one sum, so a large file costs about a third of its ``json.loads``.
    """
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        problem = _problem(value, depth, max_depth)
        if problem:
            return where or "<root>", problem
        if isinstance(value, dict):
            stack.extend((v, _join(where, str(k)), depth + 1) for k, v in reversed(value.items()))
        elif isinstance(value, list) and not (depth + 1 < max_depth and _numbers_fine(value)):
            stack.extend(
                (v, _join(where, i), depth + 1) for i, v in reversed(list(enumerate(value)))
            )
    return None
