"""``posetool finetune``: a checkpoint fine-tuned on an analyst's corrections."""

from __future__ import annotations

from pathlib import Path

import click

from posetool.cli.main import main


@main.command("finetune")
@click.argument(
    "results", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="New checkpoint (.safetensors); its model card NEW.md is written beside it.",
)
@click.option(
    "--base",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Checkpoint to start from [default: the shipped refine model].",
)
@click.option(
    "--video",
    "videos",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Video file or image folder of each RESULT, in order [default: the input "
    "named in RESULT's .summary.json, else a same-name video beside it].",
)
@click.option("--epochs", type=click.IntRange(1), default=10, show_default=True)
@click.option(
    "--lr", type=click.FloatRange(0, None, min_open=True), default=5e-4, show_default=True
)
@click.option("--batch-size", type=click.IntRange(1), default=8, show_default=True)
@click.option(
    "--holdout-every",
    type=click.IntRange(2),
    default=5,
    show_default=True,
    help="Hold back every N-th edited frame of each result to score on.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
def finetune_command(
    results,
    out_path: Path,
    base: Path | None,
    videos,
    epochs: int,
    lr: float,
    batch_size: int,
    holdout_every: int,
    seed: int,
    overwrite: bool,
) -> None:
    """Fine-tune DiffPose on the human-edited persons of RESULTS (PoseTrack JSON) and write a
    new checkpoint for posetool run --checkpoint, scored on held-back edited frames."""
    from posetool.io.exports import video_of_result
    from posetool.run.pose_estimator import default_checkpoint_path
    from posetool.training.finetune import EditedSource, FinetuneConfig, finetune

    if videos and len(videos) != len(results):
        raise click.UsageError(f"{len(videos)} --video for {len(results)} results: give one each")
    if out_path.exists() and not overwrite:
        raise click.ClickException(f"{out_path} exists; pass --overwrite to replace it")
    sources = []
    for i, result in enumerate(results):
        media = videos[i] if videos else video_of_result(result)
        if media is None:
            raise click.ClickException(
                f"{result}: no video found (no {result.stem}.summary.json "
                "naming an existing input, no same-name video beside "
                "it): pass --video"
            )
        sources.append(EditedSource(result, Path(media)))
    cfg = FinetuneConfig(
        epochs=epochs, lr=lr, batch_size=batch_size, holdout_every=holdout_every, seed=seed
    )
    try:
        report = finetune(sources, base or default_checkpoint_path("refine"), out_path, cfg)
    except (ValueError, FileNotFoundError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"trained on {report.train_persons} persons ({report.train_frames} frames), "
        f"held back {report.heldout_persons} ({report.heldout_frames} frames): "
        f"PCK@0.1 {report.base_pck:.1f} % base -> {report.finetuned_pck:.1f} % fine-tuned"
    )
    click.echo(f"wrote {out_path} and {out_path.with_suffix('.md')}")
