"""Correct → retrain: does fine-tuning on an analyst's corrections help on held-back frames?

The corrections are made reproducibly from real labels: LSP test images (never trained on)
written as an image sequence with their joints as human-edited persons
(``tests/posetool/lsp_edits.py``), upright (the shipped model's own domain) and turned 90°
(a sideways camera). ``posetool.training.finetune.finetune`` holds back every 5th edited frame and
prints PCK@0.1 of the box size there for the base and the fine-tuned model.

Usage (from the repository root):
    OMP_NUM_THREADS=1 python bench/bench_finetune.py [--count 200] [--epochs 10] [--base CKPT]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from posetool.run.pose_estimator import default_checkpoint_path  # noqa: E402
from posetool.training.finetune import EditedSource, FinetuneConfig, finetune  # noqa: E402
from tests.posetool.lsp_edits import write_lsp_edits  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lsp", type=Path, default=REPO_ROOT.parent / "shared" / "data" / "lsp")
    p.add_argument("--count", type=int, default=200, help="LSP test images (edited persons)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument(
        "--base",
        type=Path,
        default=None,
        help="checkpoint [default: the shipped refine model, else the paper one]",
    )
    a = p.parse_args()
    base = a.base or default_checkpoint_path("refine")
    if not base.is_file():
        base = default_checkpoint_path("paper")
    torch.set_num_threads(1)
    cfg = FinetuneConfig(epochs=a.epochs, lr=a.lr)
    print(f"base {base.name}, {a.count} edited persons, {cfg.epochs} epochs, lr {cfg.lr:g}")
    for sideways in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            result, frames = write_lsp_edits(
                a.lsp, Path(tmp), first=1000, count=a.count, sideways=sideways
            )
            rep = finetune([EditedSource(result, frames)], base, Path(tmp) / "t.safetensors", cfg)
        view = "sideways" if sideways else "upright"
        print(
            f"{view:9s} held back {rep.heldout_persons} persons ({rep.train_persons} trained): "
            f"PCK@0.1 base {rep.base_pck:.1f} % -> fine-tuned {rep.finetuned_pck:.1f} % "
            f"({rep.seconds:.0f} s)"
        )


if __name__ == "__main__":
    main()
