"""The ``--smooth`` options shared by ``posetool export`` and ``posetool render``.

Kept in a module of its own so both commands declare the same options; the filter itself
(:mod:`posetool.io.smoothing`) is imported only when a command runs, keeping ``--help`` fast.
"""

from __future__ import annotations

from collections.abc import Callable

import click

__all__ = ["smoothing_from_options", "smoothing_options"]

_OPTIONS = (
    click.option(
        "--smooth",
        type=click.Choice(["none", "one-euro", "savgol"]),
        default="none",
        show_default=True,
        help="Temporal smoothing per track and joint; human-edited persons are kept as they are.",
    ),
    click.option(
        "--min-cutoff",
        type=click.FloatRange(0, None, min_open=True),
        default=1.0,
        show_default=True,
        help="One-Euro cutoff at rest, Hz (lower: smoother).",
    ),
    click.option(
        "--beta",
        type=click.FloatRange(0, None),
        default=0.01,
        show_default=True,
        help="One-Euro speed coefficient, Hz per px/s (higher: less lag).",
    ),
    click.option(
        "--window",
        type=click.IntRange(3),
        default=7,
        show_default=True,
        help="Savitzky-Golay window, frames (odd).",
    ),
    click.option(
        "--order",
        type=click.IntRange(0),
        default=2,
        show_default=True,
        help="Savitzky-Golay polynomial order (< window).",
    ),
)


def smoothing_options(command: Callable) -> Callable:
    """Add --smooth, --min-cutoff, --beta, --window and --order to a Click command."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def smoothing_from_options(smooth: str, min_cutoff: float, beta: float, window: int, order: int):
    """The :class:`~posetool.io.smoothing.SmoothingConfig` the options ask for, or None."""
    if smooth == "none":
        return None
    from posetool.io.smoothing import SmoothingConfig

    try:
        return SmoothingConfig(
            method=smooth, min_cutoff_hz=min_cutoff, beta=beta, window=window, order=order
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
