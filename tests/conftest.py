"""Shared fixtures: where the real data lives; skipped when it is absent, failed under
``POSETOOL_REQUIRE_DATA=1`` (CI; see tests/required.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.required import missing_input

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("POSETOOL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of ../shared/data; skips the test when it is absent (fails in CI)."""
    if not SHARED_DATA.is_dir():
        missing_input(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def posetrack_sample(shared_data: Path) -> Path:
    path = shared_data / "posetrack18_sample"
    if not path.is_dir():
        missing_input(f"{path} is absent")
    return path
