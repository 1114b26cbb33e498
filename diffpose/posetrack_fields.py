"""Typed readers of the fields of a loaded PoseTrack JSON document, each raising
:class:`PoseTrackFormatError` that names the file and the field (``annotations[3].bbox``).

Used by :mod:`diffpose.posetrack_format`; the error is public there too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "PoseTrackFormatError",
    "as_integer",
    "as_number",
    "as_numbers",
    "optional_list",
    "require",
    "single",
    "single_number",
]


class PoseTrackFormatError(ValueError):
    """A PoseTrack file is malformed; the message names the file and the field."""

    def __init__(self, source: str | Path, field_path: str, problem: str) -> None:
        self.source = str(source)
        self.field_path = field_path
        self.problem = problem
        super().__init__(f"{source}: {field_path}: {problem}")


def require(obj: Any, key: str, where: str, source: str, kind: type | tuple = object) -> Any:
    """``obj[key]``, where ``obj`` must be an object holding ``key`` of type ``kind``."""
    if not isinstance(obj, dict):
        raise PoseTrackFormatError(source, where, f"expected an object, got {type(obj).__name__}")
    if key not in obj:
        raise PoseTrackFormatError(source, f"{where}.{key}" if where else key, "missing")
    value = obj[key]
    if not isinstance(value, kind):
        raise PoseTrackFormatError(
            source, f"{where}.{key}" if where else key, f"wrong type {type(value).__name__}"
        )
    return value


def as_integer(value: Any, where: str, source: str) -> int:
    """An id or count: a JSON number, or a string of digits (some files quote image ids)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise PoseTrackFormatError(source, where, f"expected an integer, got {value!r:.40}")


def as_number(value: Any, where: str, source: str) -> float:
    """A coordinate, score or flag: a JSON number (true/false count as 1/0)."""
    if isinstance(value, int | float):
        return float(value)
    raise PoseTrackFormatError(source, where, f"expected a number, got {value!r:.40}")


def as_numbers(value: Any, n: int | None, where: str, source: str) -> np.ndarray:
    """A flat float64 array of a list of numbers (``n`` of them unless None)."""
    try:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise PoseTrackFormatError(source, where, "expected a list of numbers") from None
    if n is not None and arr.size != n:
        raise PoseTrackFormatError(source, where, f"expected {n} numbers, got {arr.size}")
    return arr


def single(obj: dict, key: str, where: str, source: str) -> Any:
    """PoseTrack 2017 wraps every value in a one-element list."""
    value = require(obj, key, where, source)
    if isinstance(value, list):
        if len(value) != 1:
            raise PoseTrackFormatError(
                source, f"{where}.{key}", f"expected one value, got {len(value)}"
            )
        return value[0]
    return value


def single_number(obj: dict, key: str, where: str, source: str) -> float:
    """:func:`single` that must be a number."""
    return as_number(single(obj, key, where, source), f"{where}.{key}", source)


def optional_list(obj: dict, key: str, where: str, source: str) -> list:
    """An optional list field (absent or null: empty)."""
    value = obj.get(key) or []
    if not isinstance(value, list):
        raise PoseTrackFormatError(source, f"{where}.{key}", f"expected a list, got {value!r:.40}")
    return value
