"""The commands that turn a run's result into another file: ``render`` (an overlay video)
and ``export`` (PoseTrack, COCO or CSV)."""

from __future__ import annotations

from pathlib import Path

import click

from posetool.cli.main import main, verbose_option
from posetool.cli.smoothing_options import smoothing_from_options, smoothing_options


@main.command("render")
@verbose_option
@click.argument("video", type=click.Path(exists=True, path_type=Path))
@click.argument("poses", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Overlay video to write (.mp4).",
)
@click.option(
    "--min-score",
    type=click.FloatRange(0, 1),
    default=0.1,
    show_default=True,
    help="Joints scoring below this are not drawn.",
)
@smoothing_options
def render_command(
    video: Path, poses: Path, out_path: Path, min_score: float, **smooth_opts
) -> None:
    """Draw the boxes, track ids and skeletons of POSES (PoseTrack JSON) over VIDEO."""
    from posetool.io.posetrack_io import read_posetrack
    from posetool.io.render import render_video
    from posetool.io.video_io import VideoOpenError, VideoReader

    for source in (video, poses):
        if out_path.resolve() == source.resolve():
            raise click.ClickException(
                f"the output '{out_path}' is the input '{source}'; choose another -o"
            )
    try:
        with VideoReader(video) as reader:
            probe = reader.probe
        result = read_posetrack(
            poses, video_path=video, fps=probe.fps, size=(probe.width, probe.height)
        )
        with click.progressbar(length=len(result.frames), label=f"render {video.name}") as bar:
            render_video(
                video,
                result,
                out_path,
                progress=lambda done, _n: bar.update(done - bar.pos),
                min_score=min_score,
                smoothing=smoothing_from_options(**smooth_opts),
            )
    except (VideoOpenError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {out_path}")


@main.command("export")
@click.argument("result", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["posetrack", "coco", "csv"]),
    default="posetrack",
    show_default=True,
    help="posetrack: PoseTrack 2018 JSON; coco: COCO keypoints JSON (17 COCO "
    "joints; head_top and neck have no COCO slot); csv: one row per joint.",
)
@click.option(
    "-o",
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write.",
)
@click.option(
    "--video",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="The video of RESULT, for frame times and size [default: the input named "
    "in RESULT's .summary.json, else a same-name video beside it].",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@smoothing_options
def export_command(
    result: Path, fmt: str, out_path: Path, video: Path | None, overwrite: bool, **smooth_opts
) -> None:
    """Write RESULT (a posetool PoseTrack JSON) as PoseTrack, COCO keypoints or tidy CSV."""
    from diffpose.posetrack_format import PoseTrackFormatError
    from posetool.io.exports import export_result, load_result_for_export
    from posetool.io.video_io import VideoOpenError

    smoothing = smoothing_from_options(**smooth_opts)
    try:
        poses = load_result_for_export(result, video)
        export_result(poses, fmt, out_path, overwrite=overwrite, smoothing=smoothing)
    except (PoseTrackFormatError, VideoOpenError, FileExistsError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {out_path}")
