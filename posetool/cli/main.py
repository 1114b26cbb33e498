"""The ``posetool`` command group and the options every command shares."""

from __future__ import annotations

import click

from posetool import __version__


def _set_verbosity(_ctx: click.Context, _param: click.Parameter, verbose: bool) -> None:
    """Log at INFO with --verbose; otherwise keep OpenCV/FFmpeg console noise away."""
    import logging

    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        return
    from posetool.io.video_io import quiet_video_backends

    quiet_video_backends()


verbose_option = click.option(
    "-v",
    "--verbose",
    is_flag=True,
    expose_value=False,
    callback=_set_verbosity,
    help="Log progress details, and let OpenCV/FFmpeg print their own messages about broken "
    "videos (hidden by default).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="posetool")
def main() -> None:
    """Detect, track and estimate human poses in videos (YOLO + ByteTrack + DiffPose)."""
