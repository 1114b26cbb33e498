"""Crowded persons on a validation split: LSP val as is and with a second person pasted in.

LSP val (persons 901–1000 of LSP train: the split that chooses epochs, never trained on and
never reported) is scored twice: as is, and with a second LSP val person pasted beside each
(:func:`posetool.training.crowd_composites.write_crowd_composites`, ``--share 1``), each person on its
own labelled box, PCKh@0.5 (head size = head_top–neck). Rows: the peer (YOLO11n-pose's
whole-frame 640 px pose of the person, :func:`posetool.run.detector_priors.write_sample_priors`, as
the peer runs), the crop prior alone (:func:`posetool.training.crop_prior_files.write_sample_crop_priors`
with the pipeline's default prior crops, what the pipeline gives a refiner), and each ``--variant`` refiner (1 step × 5 draws, as LSP val
selects; its heatmaps decoded as the pipeline decodes them). Synthetic crowding of real labels: a check of what a second person does to each
model, for choosing crowd levers; the multi-person photos stay the reported figure.

The composites and priors are made once under ``--work`` (reused when present).

Usage::

    python bench/crowded_lsp_val.py --variant "shipped=resources/diffpose_cpu.safetensors" \\
        [--variant NAME=CKPT ...] [--lsp ../shared/data/lsp] [--work out/crowded_lsp_val]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from multi_person_photos import LIMB_GROUPS as PAIRED_GROUPS  # noqa: E402

from diffpose.data.lsp import load_lsp  # noqa: E402
from diffpose.data.posetrack import load_posetrack_dataset  # noqa: E402
from diffpose.data.priors import attach_priors  # noqa: E402
from diffpose.data.samples import PoseSample  # noqa: E402
from diffpose.keypoints import KEYPOINT_NAMES  # noqa: E402
from diffpose.validation import lsp_head_sizes, pckh  # noqa: E402

#: Table columns: the head (head_top and neck, LSP's own head joints) and the photo benches'
#: left/right-pooled joint groups.
GROUPS: dict[str, tuple[str, ...]] = {"Head": ("head_top", "head_bottom"), **PAIRED_GROUPS}
LIMB_GROUPS = ("Elbow", "Wrist", "Knee", "Ankle")
PCKH_THRESHOLD = 0.5
COMPOSITE_SEED = 1
#: The prior files' layout, in their names' digest: 2 since they carry the others' poses.
PRIOR_FILES = 2


def _slots(groups) -> list[int]:
    return [KEYPOINT_NAMES.index(n) for g in groups for n in GROUPS[g]]


def pckh_cells(pred_xy: np.ndarray, samples: list[PoseSample]) -> list[float]:
    """PCKh@0.5 (%) per joint group, then limbs, then all labelled joints (NaN: none labelled),
    each pooled over its joints from :func:`diffpose.validation.pckh`'s per-joint shares."""
    gt = np.stack([s.keypoints_xy for s in samples])
    weights = np.stack([s.weights for s in samples])
    _, per_joint = pckh(pred_xy, gt, weights, lsp_head_sizes(samples), PCKH_THRESHOLD)
    labelled = (weights > 0).sum(0)
    hits = np.nan_to_num(per_joint) * labelled / 100.0  # per joint: labelled joints right
    columns = [_slots([g]) for g in GROUPS] + [_slots(LIMB_GROUPS), list(range(gt.shape[1]))]
    cells = []
    for k in columns:
        n = labelled[k].sum()
        cells.append(100.0 * hits[k].sum() / n if n else float("nan"))
    return cells


def table_row(name: str, cells: list[float]) -> str:
    return f"| {name} | " + " | ".join(f"{c:.1f}" for c in cells) + " |"


def build_sets(lsp_root: Path, work: Path, limit: int = 0) -> list[tuple[str, list, Path, Path]]:
    """(title, samples, crop-prior file, whole-frame-prior file) of LSP val as is and crowded.

    The composites and the four prior files are made under ``work`` where absent. The
    composites are rebuilt when their settings (``crowd_composites.json``: LSP root, seed,
    shares) differ from this script's; every prior file's name carries a digest of those
    settings, the detector's input size and ``limit``, so no file made for other images is read.
    """
    from posetool.run.crop_priors import prior_crop_settings
    from posetool.run.detector_priors import priors_detector, write_sample_priors
    from posetool.run.pipeline_config import PipelineConfig
    from posetool.run.pose_config import PoseConfig
    from posetool.training.crop_prior_files import write_sample_crop_priors
    from posetool.training.crowd_composites import (
        SETTINGS_FILE,
        CompositeConfig,
        write_crowd_composites,
    )

    cfg = CompositeConfig(share=1.0, seed=COMPOSITE_SEED)
    crowd_root = work / "composites"
    wanted = {"lsp_root": str(lsp_root.resolve()), "split": "val", **asdict(cfg)}
    settings_path = crowd_root / SETTINGS_FILE
    made = json.loads(settings_path.read_text()) if settings_path.is_file() else {}
    if {k: made.get(k) for k in wanted} != json.loads(json.dumps(wanted)):
        write_crowd_composites(lsp_root, crowd_root, "val", cfg, overwrite=True)
        made = json.loads(settings_path.read_text())
    plain = load_lsp(lsp_root, "val", delta=2)
    crowded = load_posetrack_dataset(crowd_root, "train", delta=2)
    if limit:
        plain, crowded = plain[:limit], crowded[:limit]
    prior_crops = prior_crop_settings(PoseConfig())  # the pipeline's
    identity = json.dumps(
        [made, PipelineConfig().detector.imgsz, limit, PRIOR_FILES, prior_crops],
        sort_keys=True,
    )
    digest = hashlib.sha1(identity.encode()).hexdigest()[:10]
    sets = []
    detector = None
    for title, samples, name in (
        ("LSP val (as is)", plain, "plain"),
        ("LSP val, a second person pasted beside each", crowded, "crowded"),
    ):
        crop = work / f"priors_{name}_{digest}_crop.npz"
        whole = work / f"priors_{name}_{digest}_whole_frame.npz"
        if not crop.is_file() or not whole.is_file():
            detector = detector or priors_detector()
            write_sample_crop_priors(samples, detector, crop, **prior_crops)
            write_sample_priors(samples, detector, whole)
        sets.append((f"{title} ({len(samples)} persons)", samples, crop, whole))
    return sets


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lsp", type=Path, default=Path("../shared/data/lsp"))
    p.add_argument("--work", type=Path, default=Path("out/crowded_lsp_val"))
    p.add_argument("--variant", action="append", default=[], help="NAME=CHECKPOINT (repeatable)")
    p.add_argument(
        "--limit", type=int, default=0, help="only the first N persons of each set (0: all 100)"
    )
    a = p.parse_args(argv)
    if a.limit < 0:
        p.error(f"--limit must be >= 0, got {a.limit}")
    variants = []
    for v in a.variant:
        if "=" not in v:
            p.error(f"--variant {v!r}: expected NAME=CHECKPOINT")
        variants.append(v.split("=", 1))
    import torch

    from diffpose.checkpoint import load_checkpoint
    from diffpose.validation import predict_samples

    torch.set_num_threads(min(torch.get_num_threads(), 2))
    from posetool.run.pose_config import PoseConfig

    decoding = PoseConfig().heatmap_decoding  # the pipeline's
    models = {name: load_checkpoint(path).eval() for name, path in variants}
    for title, samples, crop, whole in build_sets(a.lsp, a.work, a.limit):
        print(f"\n{title}, PCKh@0.5\n")
        print("| model | " + " | ".join(GROUPS) + " | Limbs | Total |")
        print("|---" * (len(GROUPS) + 3) + "|")
        peer = attach_priors(samples, whole, source="detection")
        print(table_row("peer (YOLO11n-pose 640 px, whole frame)", pckh_cells(
            np.stack([s.prior_xy for s in peer]), samples)))  # fmt: skip
        with_crop = attach_priors(samples, crop, source="crop")
        prior_xy = np.stack([s.prior_xy for s in with_crop])
        print(table_row("crop prior alone", pckh_cells(prior_xy, samples)))
        for name, model in models.items():
            xy, _, _ = predict_samples(model, with_crop, steps=1, ensemble=5, decoding=decoding)
            print(table_row(name, pckh_cells(xy, samples)), flush=True)


if __name__ == "__main__":
    main()
