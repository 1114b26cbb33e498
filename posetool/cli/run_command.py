"""``posetool run``: the pipeline over one or many inputs, locally or on Ray."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from diffpose.precision import PRECISIONS
from posetool.cli.config_options import config_option
from posetool.cli.detector_options import detector_weights_options
from posetool.cli.main import main, verbose_option


@main.command("run")
@verbose_option
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder: NAME.json (+ NAME.overlay.mp4), NAME.summary.json, run_summary.json, config.yaml.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML config (sections detector/tracker/pose); options given here win.",
)
@click.option(
    "--fast", is_flag=True, help="Fast CPU preset: 1 step, 1 draw, 480 px detector input."
)
@click.option(
    "--resume",
    is_flag=True,
    help="Skip inputs whose outputs are complete and were made from the same input "
    "file and settings by the same posetool code.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace outputs posetool did not write, changed since, or holding persons "
    "edited by hand (human_edited); without it they are kept and reported.",
)
@config_option(
    "--steps",
    type=click.IntRange(1),
    config_field="pose.steps",
    help="DDIM steps (the default is best for the shipped model).",
)
@config_option(
    "--ensemble",
    type=click.IntRange(1),
    config_field="pose.ensemble",
    help="Noise draws.",
)
@config_option(
    "--crop-mode",
    type=click.Choice(["own_box", "key_box"]),
    config_field="pose.crop_mode",
    help="own_box: per-frame features reused across windows; key_box: the paper's "
    "shared key-frame crop.",
)
@config_option(
    "--device",
    config_field="pose.device",
    help="Torch device for detector and pose.",
)
@config_option(
    "--precision",
    type=click.Choice(PRECISIONS),
    config_field="pose.precision",
    help="Detector and pose compute type; auto: bf16 where the device has it natively.",
)
@config_option(
    "--imgsz",
    type=click.IntRange(32),
    config_field="detector.imgsz",
    help="Detector input size for frames up to that size, and the prior rule's reference.",
)
@config_option(
    "--max-imgsz",
    type=click.IntRange(0),
    config_field="detector.max_imgsz",
    help="Detect a frame larger than --imgsz at its longer side, up to this size (a "
    "multiple of 32); 0: always at --imgsz.",
)
@config_option(
    "--conf",
    type=click.FloatRange(0, 1),
    config_field="detector.conf",
    help="Detector min score.",
)
@detector_weights_options
@config_option(
    "--preset",
    type=click.Choice(["refine", "paper"]),
    config_field="pose.preset",
    help="refine: DiffPose refining the detector's own keypoints; paper: the "
    "paper's DiffPose from pure noise (resources/MODEL_CARD.md compares).",
)
@click.option(
    "--checkpoint",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="DiffPose checkpoint [default: the preset's, in resources/].",
)
@click.option(
    "--render", "render_flag", is_flag=True, default=None, help="Also write overlay videos."
)
@config_option(
    "--format",
    "fmt",
    type=click.Choice(["2018", "2021", "2017"]),
    config_field="fmt",
    help="PoseTrack JSON flavour.",
)
@config_option(
    "--max-frames",
    type=click.IntRange(0),
    config_field="max_frames",
    help="Stop after N frames per input (0: all).",
)
@config_option(
    "--threads",
    type=click.IntRange(0),
    config_field="threads",
    help="CPU cores to use (0: every core this process may use).",
)
@config_option(
    "--pipelined/--sequential",
    config_field="pipelined",
    help="Several frames at once, detection and pose, each op on one thread; or one "
    "frame at a time, each op on every thread.",
)
@click.option(
    "--stills/--frames",
    default=None,
    help="Image folders hold unrelated photos, each posed alone (--stills), or one video's "
    "frames, tracked (--frames) [default: frames, unless no image size holds more than "
    "half of a folder's images, or neighbouring images do not look alike].",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="ray: one task per video on Ray workers that load the models once "
    "(pip install 'posetool[ray]'); --threads is then each worker's cores "
    "[default: a share of the cluster's].",
)
@click.option(
    "--ray-address",
    default=None,
    metavar="ADDR",
    help="With --engine ray: an existing cluster (auto, host:port) [default: start "
    "a local Ray instance for the run]. Inputs and OUT must be at the same "
    "path on every node.",
)
def run_command(
    inputs,
    out_dir,
    config_file,
    fast,
    resume,
    overwrite,
    steps,
    ensemble,
    crop_mode,
    device,
    precision,
    imgsz,
    max_imgsz,
    conf,
    detector_weights,
    trust_detector_weights,
    preset,
    checkpoint,
    render_flag,
    fmt,
    max_frames,
    threads,
    pipelined,
    stills,
    engine,
    ray_address,
) -> None:
    """Detect, track and estimate poses in INPUT... (video files, image folders, photos,
    folders searched recursively, globs) and write PoseTrack JSON per input to OUT.

    The per-joint ensemble spread (px) is stored in each annotation's extra key
    keypoint_spread_px. No output ever replaces an input; outputs posetool did not write or
    that hold edits are kept unless --overwrite. Exit code 1 if any input failed or had its
    outputs kept.
    """
    overrides = {
        "pose": {
            "steps": steps,
            "ensemble": ensemble,
            "crop_mode": crop_mode,
            "device": device,
            "precision": precision,
            "preset": preset,
            "checkpoint": str(checkpoint) if checkpoint else None,
        },
        "detector": {
            "imgsz": imgsz,
            "max_imgsz": max_imgsz,
            "conf": conf,
            "device": device,
            "precision": precision,
        },
        "detector_weights": str(detector_weights) if detector_weights else None,
        "render": render_flag,
        "fmt": fmt,
        "max_frames": max_frames,
        "threads": threads,
        "pipelined": pipelined,
    }
    if ray_address and engine != "ray":
        raise click.UsageError("--ray-address needs --engine ray")
    sys.exit(
        _run_from_cli(
            inputs,
            out_dir,
            config_file,
            fast,
            overrides,
            {
                "resume": resume,
                "overwrite": overwrite,
                "trust_detector_weights": trust_detector_weights,
            },
            engine,
            ray_address,
            stills,
        )
    )


def _prune(values: dict) -> dict:
    """Drop the options not given (None), recursively."""
    out = {}
    for key, value in values.items():
        if isinstance(value, dict):
            value = _prune(value)
            if value:
                out[key] = value
        elif value is not None:
            out[key] = value
    return out


def _run_from_cli(
    inputs,
    out_dir: Path,
    config_file,
    fast: bool,
    overrides: dict,
    batch_options: dict,
    engine: str = "local",
    ray_address: str | None = None,
    stills: bool | None = None,
) -> int:
    """Resolve the config (preset < --config file < options), find the inputs (``stills``:
    whether image folders hold photos, None to decide by their sizes: posetool.io.inputs), run
    the batch on ``engine``
    ("local" or "ray") with ``batch_options`` (resume, overwrite, trust_detector_weights),
    report."""
    from diffpose.yolo_weights import WeightsError
    from posetool.batch.runner import OutputConflictError, OutputFolderError, run_batch
    from posetool.io.inputs import discover_inputs
    from posetool.run.config_file import ConfigFileError, config_from_dict, load_config
    from posetool.run.pipeline_config import PipelineConfig

    base = PipelineConfig.fast() if fast else PipelineConfig()
    try:
        config = load_config(config_file, base) if config_file else base
        config = config_from_dict(_prune(overrides), config)
    except ConfigFileError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        paths = discover_inputs(inputs, output_dir=out_dir, stills=stills)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    if not paths:
        raise click.ClickException(
            f"no video file, image folder or photo found in {', '.join(map(str, inputs))} "
            "(looked for video files and folders of .jpg/.png images, recursively)"
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".posetool-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise click.ClickException(
            f"cannot write to the output folder '{out_dir}': {exc.strerror or exc}"
        ) from None
    total = len(paths)
    state: dict = {}

    def on_start(i: int, path: Path, name: str, frames: int):
        limit = config.max_frames
        length = min(frames, limit) if (frames and limit) else (frames or limit or 1)
        bar = click.progressbar(length=length, label=f"[{i + 1}/{total}] {name}", file=sys.stderr)
        bar.__enter__()
        state["bar"] = bar
        return lambda done, _n: bar.update(done - bar.pos)

    def on_end(summary) -> None:
        bar = state.pop("bar", None)
        if bar is not None:
            bar.__exit__(None, None, None)
        prefix = f"[{len(batch_done) + 1}/{total}] "
        batch_done.append(summary)
        click.echo(prefix + summary.line())

    batch_done: list = []
    click.echo(
        f"{total} input(s) -> {out_dir}  (steps {config.pose.steps}, ensemble "
        f"{config.pose.ensemble}, crop {config.pose.crop_mode}, device {config.pose.device})"
    )
    try:
        if engine == "ray":
            batch = _run_on_ray(paths, out_dir, config, batch_options, ray_address)
        else:
            batch = run_batch(
                paths,
                out_dir,
                config,
                on_video_start=on_start,
                on_video_end=on_end,
                **batch_options,
            )
    except (WeightsError, FileNotFoundError, OutputConflictError, OutputFolderError) as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write outputs to '{out_dir}': {exc}") from None
    finally:
        bar = state.pop("bar", None)
        if bar is not None:
            bar.__exit__(None, None, None)
    info = batch.to_dict()
    click.echo(
        f"done: {info['ok']} ok, {info['skipped']} skipped, {info['failed']} failed, "
        f"{info['refused']} kept (not replaced); "
        f"{info['frames']} frames, {info['persons']} persons "
        f"({info['duplicate_poses_dropped']} duplicate poses dropped), {info['tracks']} tracks in "
        f"{info['seconds']:.1f}s -> {out_dir / 'run_summary.json'}"
    )
    for video in batch.videos:
        if video.status in ("failed", "refused"):
            label = "FAILED" if video.status == "failed" else "KEPT"
            click.echo(f"{label} {video.input}: {video.error}", err=True)
    return 1 if batch.failed or batch.refused else 0


def _run_on_ray(paths: list[Path], out_dir: Path, config, batch_options: dict, address: str | None):
    """The batch on Ray, with one progress bar over the videos and a line per video as it
    finishes (videos run side by side, so there is no per-frame bar)."""
    from tqdm import tqdm

    from posetool.batch.ray_engine import RayEngineError, run_batch_ray

    total = len(paths)
    bar = tqdm(total=total, unit="video", file=sys.stderr, dynamic_ncols=True)
    finished: list = []

    def on_plan(plan, videos: int) -> None:
        tqdm.write(
            f"ray: {plan.workers} worker(s), {plan.cpus_per_worker} CPU(s)"
            f"{' + 1 GPU' if plan.gpus_per_worker else ''} each, {videos} video(s) to run"
        )

    def on_end(summary) -> None:
        finished.append(summary)
        tqdm.write(f"[{len(finished)}/{total}] {summary.line()}")
        bar.set_postfix_str(summary.status)
        bar.update(1)

    try:
        return run_batch_ray(
            paths,
            out_dir,
            config,
            address=address,
            on_plan=on_plan,
            on_video_end=on_end,
            **batch_options,
        )
    except RayEngineError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        bar.close()
