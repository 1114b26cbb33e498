"""``posetool eval`` and the CLI's start-up cost."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from posetool.cli import main


def test_eval_table_markdown_json(posetrack_sample):
    gt = str(posetrack_sample / "annotations" / "val")
    runner = CliRunner()
    table = runner.invoke(main, ["eval", gt, gt])
    assert table.exit_code == 0, table.output
    header = table.output.splitlines()[0].split()
    assert header == [
        "Metric",
        "Head",
        "Shoulder",
        "Elbow",
        "Wrist",
        "Hip",
        "Knee",
        "Ankle",
        "Mean",
    ]
    assert table.output.splitlines()[1].split()[1:] == ["100.0"] * 8
    md = runner.invoke(main, ["eval", gt, gt, "--format", "markdown", "--keep-last-frame"])
    assert "| MOTA | 100.0 |" in md.output
    js = runner.invoke(main, ["eval", gt, gt, "--format", "json"])
    assert json.loads(js.output)["ap"]["Total"] == 100.0


def test_eval_reports_missing_prediction(posetrack_sample, tmp_path):
    gt = str(posetrack_sample / "annotations" / "val")
    res = CliRunner().invoke(main, ["eval", gt, str(tmp_path)])
    assert res.exit_code != 0 and "is missing" in res.output


def test_help_is_fast_and_light():
    code = (
        "import sys, time; t = time.perf_counter(); from posetool.cli import main; "
        "print(time.perf_counter() - t); "
        "print(any(m in sys.modules for m in ('torch', 'ultralytics', 'PySide6', 'cv2')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, heavy = out.stdout.split()
    assert heavy == "False"
    assert float(seconds) < 1.0
