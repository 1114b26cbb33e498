"""DiffPose CPU cost: ms per person-frame split into backbone, STRL and decoder; peak memory.

Usage: .venv/bin/python bench/bench_diffpose.py [--threads 2] [--persons 8] [--skip-paper]
       [--precision fp32 bf16]

Per person-frame costs: one frame's backbone (per-frame features are reused across the 2δ+1
windows that contain the frame), one STRL pass over the clip, and the decoder (its per-clip
cache plus steps × one batched pass over the N ensemble members). Random weights: the cost
does not depend on them. The paper preset (ViT-H) is timed at batch 1 with one clip. The CPU
presets (the default refiner and the paper-faithful one) are timed at each ``--precision`` (bf16: bfloat16 weights, see diffpose.precision; on
a CPU without native bfloat16 it is emulated and slow).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import torch

from diffpose.config import DiffPoseConfig
from diffpose.model import DiffPose
from diffpose.precision import resolve_precision


def _ms(fn, repeats: int) -> float:
    fn()  # warm-up (allocator, oneDNN primitive cache)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def _params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@torch.no_grad()
def bench_preset(
    name: str,
    cfg: DiffPoseConfig,
    persons: int,
    grid,
    repeats: int,
    dtype: torch.dtype = torch.float32,
) -> None:
    torch.manual_seed(0)
    model = DiffPose.from_config(cfg).eval().set_inference_dtype(dtype)
    t = cfg.num_frames
    print(
        f"\n[{name}, {str(dtype).removeprefix('torch.')}] backbone={cfg.backbone.kind} "
        f"params: backbone {_params(model.backbone):,}, "
        f"STRL {_params(model.strl):,}, decoder {_params(model.decoder):,}; "
        f"persons (batch) = {persons}, T = {t}"
    )
    frames = torch.randn(persons, 3, *cfg.image_size)
    bb = _ms(lambda: model.frame_features(frames), repeats) / persons
    if model.uses_crop_prior:  # the same pass also runs YOLO's Pose head on the crops
        crops = torch.randint(0, 256, (persons, *cfg.image_size, 3), dtype=torch.uint8)
        bb = _ms(lambda: model.frame_features_and_pose_rgb(crops), repeats) / persons
        rgb_only = _ms(lambda: model.frame_features_rgb(crops), repeats) / persons
        head = f"backbone with the crop prior's Pose head {bb:.2f} ms/frame"
        print(f"{head} (the backbone alone on the same crops: {rgb_only:.2f})")
    feats = model.frame_features(frames)[:, None].expand(-1, t, -1, -1, -1).contiguous()
    prior = None
    if model.uses_prior:  # the refiner also takes the detector's pose as heatmaps
        prior = torch.rand(persons, model.decoder.prior_channels, *cfg.heatmap_size)
    strl = _ms(lambda: model.condition(feats, prior), repeats) / persons  # STRL + decoder cache
    print(f"backbone {bb:.2f} ms/frame | STRL + decoder cache {strl:.2f} ms/clip")
    print("steps  N   decoder ms/person-frame   total ms/person-frame (backbone+STRL+decoder)")
    for steps in grid[0]:
        for n in grid[1]:
            g = torch.Generator().manual_seed(0)

            def sample(steps=steps, n=n, g=g):
                model.sample_heatmaps(feats, steps=steps, ensemble=n, generator=g, prior=prior)

            dec = _ms(sample, repeats) / persons - strl  # sample_heatmaps includes condition()
            print(f"{steps:>5} {n:>3}   {dec:>10.2f}               {bb + strl + dec:>10.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS so far: {peak:.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--persons", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-paper", action="store_true")
    ap.add_argument("--precision", nargs="+", choices=("fp32", "bf16"), default=["fp32", "bf16"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for name in args.precision:
        for preset, cfg in (
            ("cpu (refine, default)", DiffPoseConfig.cpu()),
            ("cpu-paper", DiffPoseConfig.cpu_paper()),
        ):
            bench_preset(
                preset,
                cfg,
                args.persons,
                ((1, 2, 4), (1, 5, 10)),
                args.repeats,
                resolve_precision(name, "cpu"),
            )
    if not args.skip_paper:
        # ViT-H on a CPU: one clip, one repeat, the paper's inference setting and the cheapest.
        bench_preset("paper", DiffPoseConfig.paper(), 1, ((1, 4), (1, 10)), 1)


if __name__ == "__main__":
    main()
