"""OpenCV/FFmpeg console noise about broken videos stays hidden unless ``--verbose``.

FFmpeg writes straight to file descriptor 2, past Python, so the CLI runs in a subprocess."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _render(video: Path, poses: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for key in ("OPENCV_LOG_LEVEL", "OPENCV_FFMPEG_LOGLEVEL"):
        env.pop(key, None)
    cmd = [
        sys.executable,
        "-m",
        "posetool.cli",
        "render",
        str(video),
        str(poses),
        "-o",
        str(out),
        *extra,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def test_broken_video_noise_only_with_verbose(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(struct.pack(">I4s4sI4s", 20, b"ftyp", b"isom", 512, b"isom") + bytes(4096))
    poses = tmp_path / "broken.json"
    poses.write_text(json.dumps({"images": [], "annotations": []}))
    quiet = _render(broken, poses, tmp_path / "o.mp4")
    assert quiet.returncode == 1 and "broken.mp4" in quiet.stderr
    assert "moov atom" not in quiet.stderr and "WARN" not in quiet.stderr, quiet.stderr
    loud = _render(broken, poses, tmp_path / "o.mp4", "--verbose")
    assert loud.returncode == 1 and "moov atom not found" in loud.stderr, loud.stderr
    assert "WARN" in loud.stderr
