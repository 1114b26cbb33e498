"""Fixtures of the app tests that need no external data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.posetool.synthetic import write_figures_video


@pytest.fixture(scope="session")
def figures_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10-frame, 10 fps AVI of two drawn people walking (tests/posetool/synthetic.py)."""
    return write_figures_video(tmp_path_factory.mktemp("synthetic") / "figures.avi")
