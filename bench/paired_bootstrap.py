"""How sure is a difference of a point? A paired bootstrap of two models' mAP per joint group
on a hand-labelled video set, from the predictions ``bench/own_video_check.py`` wrote.

The labelled frames (or clusters of frames a few apart, which show the same persons; the
default) are resampled with replacement, the same draw for both models, and each model's AP
per joint group is computed again on every resample (``diffpose.evaluation.bootstrap``). The
table gives both models' figures as scored by ``own_video_check.py``, the percentile interval
of A − B, and the share of resamples in which A is below B. MOTA is not bootstrapped (it
needs the frames in order). It says how much the labelled frames alone could move a
difference; it does not retrain or re-run any model.

Usage (after ``own_video_check.py`` has written the rows' predictions)::

    python bench/own_video_check.py --models default peer       # out/own_video_preds/
    python bench/paired_bootstrap.py --a default --b peer
    python bench/paired_bootstrap.py --a default --b peer --video 000001_mpiinew_test --max-gap 0
    python bench/paired_bootstrap.py --set validation --preds out/val_video_preds_X --a psw05 --b psw0
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from own_video_check import LABEL_SETS, ground_truth, labelled_frames  # noqa: E402

from diffpose.evaluation.bootstrap import neighbour_clusters, paired_bootstrap  # noqa: E402
from diffpose.evaluation.evaluate import assign_sequences  # noqa: E402
from diffpose.posetrack_format import load_posetrack  # noqa: E402


def _frames(names: list[str], preds: Path, row: str):
    """The row's assignments of every labelled frame of ``names``, in order."""
    pairs = []
    for name in names:
        path = preds / row.replace("/", "_") / f"{name}.json"
        if not path.is_file():
            raise SystemExit(f"{path}: missing; run bench/own_video_check.py for row {row!r}")
        pred = load_posetrack(path)
        pairs.append((name, ground_truth(name, pred.num_frames), pred))
    return [fa for seq in assign_sequences(pairs) for fa in seq]


def table_text(rows, a: str, b: str, confidence: float) -> str:
    pct = f"{confidence * 100:g} %"
    lines = [
        f"| group | {a} | {b} | A − B | {pct} interval of A − B | resamples with A < B |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.group} | {r.a:.1f} | {r.b:.1f} | {r.difference:+.1f} | "
            f"[{r.low:+.1f}, {r.high:+.1f}] | {r.share_a_below * 100:.0f} % |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", required=True, help="row name of model A (a folder under --preds)")
    ap.add_argument("--b", required=True, help="row name of model B")
    ap.add_argument("--set", dest="label_set", choices=sorted(LABEL_SETS), default="check")
    ap.add_argument(
        "--preds",
        type=Path,
        help="own_video_check.py's --preds (default out/own_video_preds, or "
        "out/val_video_preds for --set validation)",
    )
    ap.add_argument(
        "--video",
        action="append",
        default=[],
        help="only this labelled video (repeatable; default: every one of the set)",
    )
    ap.add_argument(
        "--max-gap",
        type=int,
        default=10,
        help="labelled frames at most this many frames after the previous one resample "
        "together (default 10: the check's two-frame segments; 0: every frame alone)",
    )
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--confidence", type=float, default=0.95)
    args = ap.parse_args()
    names = list(LABEL_SETS[args.label_set][1])
    for name in args.video:
        if name not in names:
            raise SystemExit(f"--video {name!r}: not a video of the {args.label_set} set {names}")
    names = args.video or names
    preds = args.preds or ROOT / "out" / (
        "own_video_preds" if args.label_set == "check" else "val_video_preds"
    )
    frames_a = _frames(names, preds, args.a)
    frames_b = _frames(names, preds, args.b)
    numbers = [[i for i, lab in labelled_frames(n).items() if lab["persons"]] for n in names]
    clusters = neighbour_clusters(numbers, args.max_gap)
    rows = paired_bootstrap(frames_a, frames_b, clusters, args.samples, args.seed, args.confidence)
    persons = sum(len(lab["persons"]) for n in names for lab in labelled_frames(n).values())
    print(
        f"{args.label_set} set, {', '.join(names)}: {len(frames_a)} labelled frames, "
        f"{persons} persons, {len(set(clusters))} resampled units (--max-gap {args.max_gap}), "
        f"{args.samples} resamples, seed {args.seed}; A = {args.a}, B = {args.b}\n"
    )
    print(table_text(rows, args.a, args.b, args.confidence))


if __name__ == "__main__":
    main()
