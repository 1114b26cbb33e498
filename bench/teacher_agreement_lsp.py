"""The pseudo-label teacher measured against real labels: YOLO11n-pose's joints on LSP train
(images 1–1000, real labels; neither LSP's test half nor a reported set), kept by score
alone, as ``posetool pseudo-label`` keeps them, and also by flip agreement
(``--flip-agreement C``, :func:`posetool.training.teacher_agreement.flip_agreement`: a joint agrees
where its :func:`~posetool.training.teacher_agreement.flip_distances` is at most C).

For each image the teacher runs on the image and on its mirror (float32, 640 px, as
``pseudo-label``); the detection with the largest IoU with the labelled person's box (at least
0.3) is that person. Its 12 limb and shoulder joints (LSP has no nose; head_top and neck are
not COCO joints) are right when within 0.5 LSP head sizes of the label (PCKh@0.5). A row
gives, for one rule, the share of labelled joints it keeps, how often a kept joint is right,
and how often the joints it drops beyond the score rule's were right. Labels are best when
kept joints are right and dropped ones were mostly wrong.

Usage::

    python bench/teacher_agreement_lsp.py [--lsp ../shared/data/lsp] [--images 1000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from diffpose.data.lsp import load_lsp
from diffpose.validation import lsp_head_sizes
from posetool.run.detector import DetectorConfig, PersonDetector
from posetool.training.teacher_agreement import flip_distances
from trackers.matching import iou_matrix

EVALUATED = tuple(range(5, 17))  # shoulders to ankles: COCO-17 and PoseTrack slots agree
LIMBS = (7, 8, 9, 10, 13, 14, 15, 16)  # elbows, wrists, knees, ankles
MIN_JOINT_SCORE = 0.5  # posetool pseudo-label's default
SHARES = (0.03, 0.05, 0.1)


def teacher_joints(lsp_root: Path, images: int) -> np.ndarray:
    """(J, 4): per labelled joint, error in head sizes, teacher score, flip distance in box
    heights (inf: no mirrored person), slot."""
    samples = load_lsp(lsp_root, "train")[:images]
    detector = PersonDetector(DetectorConfig(precision="fp32"))
    rows = []
    for sample, head in zip(samples, lsp_head_sizes(samples), strict=True):
        img = cv2.imread(sample.frame_paths[0])
        det, mirrored = detector.detect_batch([img, np.ascontiguousarray(img[:, ::-1])])
        if not len(det):
            continue
        box = np.asarray(sample.box_xyxy, np.float64)[None]
        iou = iou_matrix(det.boxes_xyxy, box)[:, 0]
        i = int(np.argmax(iou))
        if iou[i] < 0.3:
            continue
        distances = flip_distances(det, mirrored, img.shape[1])[i]
        for k in EVALUATED:
            if sample.weights[k] <= 0:
                continue
            error = np.linalg.norm(det.keypoints_xy[i, k] - sample.keypoints_xy[k]) / head
            rows.append((error, det.keypoint_scores[i, k], distances[k], k))
    return np.array(rows, np.float64).reshape(-1, 4)


def table(rows: np.ndarray) -> str:
    """Markdown rows: each rule's kept share, PCKh of kept joints, PCKh of the newly dropped."""
    right = rows[:, 0] <= 0.5
    by_score = rows[:, 1] >= MIN_JOINT_SCORE
    limbs = np.isin(rows[:, 3], LIMBS)
    lines = [
        "| rule | joints kept % | kept right % | limbs kept right % | dropped beyond score, right % |",
        "|---|---|---|---|---|",
        f"| all joints | 100.0 | {100 * right.mean():.1f} | {100 * right[limbs].mean():.1f} | — |",
    ]
    rules = [("score ≥ 0.5 (pseudo-label's default)", by_score)]
    rules += [(f"… and flip agreement ≤ {c}", by_score & (rows[:, 2] <= c)) for c in SHARES]
    for name, keep in rules:
        dropped = by_score & ~keep
        dropped_right = f"{100 * right[dropped].mean():.1f}" if dropped.any() else "—"
        lines.append(
            f"| {name} | {100 * keep.mean():.1f} | {100 * right[keep].mean():.1f} | "
            f"{100 * right[keep & limbs].mean():.1f} | {dropped_right} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lsp", type=Path, default=Path("../shared/data/lsp"))
    parser.add_argument("--images", type=int, default=1000, help="first N of LSP train")
    args = parser.parse_args()
    rows = teacher_joints(args.lsp, args.images)
    print(f"LSP train, first {args.images} images: {len(rows)} labelled joints of found persons")
    print(table(rows))


if __name__ == "__main__":
    main()
