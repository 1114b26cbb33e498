"""POSETOOL_REQUIRE_DATA=1 (set by .ci/run) turns a missing-data skip into a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, require: bool) -> subprocess.CompletedProcess:
    test = tmp_path / "test_needs_data.py"
    test.write_text("def test_needs_data(shared_data):\n    pass\n")
    env = {k: v for k, v in os.environ.items() if k != "POSETOOL_REQUIRE_DATA"}
    env.update(PYTHONPATH=str(REPO_ROOT), POSETOOL_SHARED_DATA=str(tmp_path / "no_data"))
    if require:
        env["POSETOOL_REQUIRE_DATA"] = "1"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*cmd, str(test)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("require", [False, True])
def test_missing_data_skips_for_users_and_fails_in_ci(tmp_path: Path, require: bool) -> None:
    res = _run(tmp_path, require)
    if require:
        assert res.returncode == 1 and "1 error" in res.stdout, res.stdout  # in the fixture
        assert "POSETOOL_REQUIRE_DATA=1" in res.stdout
    else:
        assert res.returncode == 0 and "1 skipped" in res.stdout, res.stdout
