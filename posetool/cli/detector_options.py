"""The ``--detector-weights`` and ``--trust-detector-weights`` options shared by
``posetool run`` and ``posetool pseudo-label``.

Kept apart from the commands' modules so both declare the same options with the same help.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

__all__ = ["TRUST_HELP", "detector_weights_options"]

TRUST_HELP = (
    "Load --detector-weights (or the YAML key) that are not the official "
    "YOLO11n-pose file. They are unpickled, and unpickling can run code hidden in the "
    "file: only for weights whose source you trust."
)

_OPTIONS = (
    click.option(
        "--detector-weights",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="YOLO weights [default: the official YOLO11n-pose, sha256 pinned].",
    ),
    click.option("--trust-detector-weights", is_flag=True, help=TRUST_HELP),
)


def detector_weights_options(command: Callable) -> Callable:
    """Add --detector-weights and --trust-detector-weights to a Click command."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command
