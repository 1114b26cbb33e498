"""``posetool run --help`` shows the defaults of the config the options override, and an
option not given stays None (the --config file or preset decides)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from click.testing import CliRunner

import posetool.cli as cli
import posetool.cli.run_command as run_command
from posetool.cli.config_options import ConfigDefaultOption, config_default
from posetool.run.pipeline_config import PipelineConfig

#: run's override options and the PipelineConfig field each one sets
OVERRIDES = {
    "--steps": "pose.steps",
    "--ensemble": "pose.ensemble",
    "--crop-mode": "pose.crop_mode",
    "--device": "pose.device",
    "--precision": "pose.precision",
    "--preset": "pose.preset",
    "--imgsz": "detector.imgsz",
    "--max-imgsz": "detector.max_imgsz",
    "--conf": "detector.conf",
    "--format": "fmt",
    "--max-frames": "max_frames",
    "--threads": "threads",
    "--pipelined": "pipelined",
}


def _help_of(command: str) -> dict[str, str]:
    """{option: its help line} from ``posetool COMMAND --help``."""
    res = CliRunner().invoke(
        cli.main, [command, "--help"], terminal_width=1000, max_content_width=1000
    )
    assert res.exit_code == 0, res.output
    rows = (re.match(r"^  (?:-\w, )?(--[\w-]+)", line) for line in res.output.splitlines())
    return {row[1]: row.string for row in rows if row}


def test_run_help_shows_the_config_defaults_it_overrides() -> None:
    shown = _help_of("run")
    for option, field in OVERRIDES.items():
        value = config_default(field)
        if option == "--pipelined":
            value = "pipelined" if value else "sequential"
        assert f"[default: {value}" in shown[option], (option, shown[option])
    assert "[default: 1;" in shown["--steps"] and "[default: 0.1;" in shown["--conf"]


def test_help_follows_the_config_when_a_default_changes(monkeypatch) -> None:
    changed = PipelineConfig()
    changed = replace(changed, pose=replace(changed.pose, ensemble=7), pipelined=False)
    monkeypatch.setattr("posetool.run.pipeline_config.PipelineConfig", lambda: changed)
    shown = _help_of("run")
    assert "[default: 7;" in shown["--ensemble"]
    assert "[default: sequential]" in shown["--pipelined"]


def test_options_not_given_override_nothing(monkeypatch, tmp_path) -> None:
    seen = {}

    def capture(inputs, out_dir, config_file, fast, overrides, *rest) -> int:
        seen.update(run_command._prune(overrides))
        return 0

    monkeypatch.setattr(run_command, "_run_from_cli", capture)
    args = ["run", str(tmp_path), "-o", str(tmp_path / "out")]
    assert CliRunner().invoke(cli.main, args).exit_code == 0
    assert seen == {}
    assert CliRunner().invoke(cli.main, [*args, "--sequential", "--ensemble", "3"]).exit_code == 0
    assert seen == {"pipelined": False, "pose": {"ensemble": 3}}


def test_an_override_option_must_default_to_none() -> None:
    with pytest.raises(ValueError, match="defaults to None"):
        ConfigDefaultOption(["--steps"], default=1, config_field="pose.steps")
