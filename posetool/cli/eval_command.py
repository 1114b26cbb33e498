"""``posetool eval``: PoseTrack predictions scored against ground truth as poseval does."""

from __future__ import annotations

from pathlib import Path

import click

from posetool.cli.main import main


@main.command("eval")
@click.argument("gt", type=click.Path(exists=True, path_type=Path))
@click.argument("pred", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
    help="Output layout.",
)
@click.option("--no-tracking", is_flag=True, help="Skip MOTA (pose AP only).")
@click.option(
    "--keep-last-frame",
    is_flag=True,
    help="Count the last frame of each sequence in MOTA (poseval drops it).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, None, min_open=True),
    default=0.5,
    show_default=True,
    help="PCKh distance threshold (fraction of head size).",
)
def eval_command(
    gt: Path, pred: Path, fmt: str, no_tracking: bool, keep_last_frame: bool, threshold: float
) -> None:
    """Evaluate PoseTrack predictions PRED against ground truth GT (files or folders).

    Folders are matched by file name. Prints per-joint AP in the paper's layout (Head
    Shoulder Elbow Wrist Hip Knee Ankle Mean) and MOTA, computed as poseval does.
    """
    from diffpose.evaluation import EvaluationInputError, evaluate_paths, format_result
    from diffpose.posetrack_format import PoseTrackFormatError

    try:
        result = evaluate_paths(
            gt,
            pred,
            dist_thresh=threshold,
            tracking=not no_tracking,
            skip_last_frame=not keep_last_frame,
        )
    except (EvaluationInputError, PoseTrackFormatError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(format_result(result, fmt))
