"""The commands that make training data from the detector: ``pseudo-label``,
``crowd-composites`` and ``detector-priors``."""

from __future__ import annotations

from pathlib import Path

import click

from posetool.cli.config_options import config_option
from posetool.cli.detector_options import detector_weights_options
from posetool.cli.main import main, verbose_option
from posetool.run.pose_config import PoseConfig


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
    from posetool.run.detector import DetectorConfig, PersonDetector
    from posetool.training.pseudo_label import PseudoLabelConfig, pseudo_label

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
    from posetool.training.crowd_composites import CompositeConfig, write_crowd_composites

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
    from posetool.run.detector_priors import priors_detector, write_sample_priors

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
        from posetool.training.crop_prior_files import write_sample_crop_priors

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
