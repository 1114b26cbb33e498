"""``posetool view``: the viewer (PySide6 is imported inside the command only)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from posetool.cli.main import main, verbose_option


@main.command("view")
@verbose_option
@click.argument("video", required=False, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--poses",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PoseTrack JSON of the video (default: <stem>.json beside it).",
)
def view_command(video: Path | None, poses: Path | None) -> None:
    """Review, correct and export the poses of VIDEO (a video file or image folder)."""
    from posetool.gui.app import run_viewer  # PySide6 is imported here only

    sys.exit(run_viewer(video, poses))
