"""A wheel install finds the shipped DiffPose checkpoint (no checkout beside the package)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import posetool
from posetool.run.pose_estimator import default_checkpoint_path
from tests.required import missing_input

ROOT = Path(__file__).resolve().parents[2]
NAME = "diffpose_cpu.safetensors"


def test_the_wheel_carries_the_checkpoint_and_model_card(tmp_path: Path) -> None:
    if not (ROOT / "resources" / NAME).is_file():
        missing_input(f"no checkpoint in {ROOT / 'resources'}")
    src = tmp_path / "src"
    for part in ("posetool", "diffpose", "trackers", "resources"):
        shutil.copytree(ROOT / part, src / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, src / part)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(src),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("posetool-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for file in (NAME, "MODEL_CARD.md"):
        assert any(n.endswith(f".data/data/share/posetool/resources/{file}") for n in names)


def test_installed_checkpoint_is_found_without_a_checkout(tmp_path, monkeypatch) -> None:
    site = tmp_path / "site-packages" / "posetool"
    site.mkdir(parents=True)
    monkeypatch.setattr(posetool, "__file__", str(site / "__init__.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    checkout_path = tmp_path / "site-packages" / "resources" / NAME
    assert default_checkpoint_path() == checkout_path  # neither: the error names this one
    installed = tmp_path / "prefix" / "share" / "posetool" / "resources" / NAME
    installed.parent.mkdir(parents=True)
    installed.write_bytes(b"")
    assert default_checkpoint_path() == installed
    checkout_path.parent.mkdir(parents=True)
    checkout_path.write_bytes(b"")
    assert default_checkpoint_path() == checkout_path  # a checkout wins
