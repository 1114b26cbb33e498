"""Temporal smoothing of keypoints per track and joint, and the jitter it is judged by.

Two filters, each over the consecutive frames where a track's joint is visible (a gap in the
track or a hidden joint starts a new stretch):

- **One-Euro** (Casiez et al., CHI 2012): an exponential smoother whose cutoff rises with the
  joint's speed, ``cutoff = min_cutoff_hz + beta * speed`` (speed in px/s, from the frames'
  timestamps), so slow joints are smoothed hard and fast ones follow with little lag. Causal.
- **Savitzky-Golay**: a least-squares polynomial of ``order`` over a centred ``window`` of
  frames (``scipy.signal.savgol_filter``, edges fitted too); a stretch shorter than the window
  uses the largest odd window it holds (none if that is not above ``order``).

A human-edited person passes through unchanged, all its joints: the analyst's pose is the
truth. The One-Euro filter restarts from it; Savitzky-Golay fits over it and then puts it
back. Only ``keypoints_xy`` changes. Qt-free: the viewer, ``export`` and ``render`` use it.

Shape letters: L frames of a stretch, K keypoints.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from posetool.records import VideoResult

__all__ = [
    "METHODS",
    "SmoothingConfig",
    "joint_differences_px",
    "mean_acceleration_px",
    "mean_displacement_px",
    "smooth_result",
]

METHODS = ("one-euro", "savgol")


@dataclass(frozen=True)
class SmoothingConfig:
    """Which filter and its parameters.

    Attributes:
        method: "one-euro" or "savgol".
        min_cutoff_hz: One-Euro cutoff at rest (lower: smoother, more lag when slow).
        beta: One-Euro speed coefficient, Hz per px/s (higher: less lag when fast).
        d_cutoff_hz: One-Euro cutoff of the speed estimate.
        window: Savitzky-Golay window in frames (odd).
        order: Savitzky-Golay polynomial order (< window).
    """

    method: Literal["one-euro", "savgol"] = "one-euro"
    min_cutoff_hz: float = 1.0
    beta: float = 0.01
    d_cutoff_hz: float = 1.0
    window: int = 7
    order: int = 2

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"smoothing method must be one of {METHODS}, got {self.method!r}")
        if not (self.min_cutoff_hz > 0 and self.d_cutoff_hz > 0 and self.beta >= 0):
            raise ValueError("min_cutoff_hz and d_cutoff_hz must be > 0 and beta >= 0")
        if self.window < 3 or self.window % 2 == 0:
            raise ValueError(f"window must be odd and >= 3, got {self.window}")
        if not 0 <= self.order < self.window:
            raise ValueError(f"order must be in [0, window), got {self.order}")


def _track_runs(result: VideoResult) -> Iterator[list[tuple[int, int]]]:
    """Per track, each run of consecutive frames as [(frame index, person index), ...]."""
    runs: dict[int, list[tuple[int, int]]] = {}
    for fr in result.frames:
        seen = set()
        for p, tid in enumerate(fr.track_ids.tolist()):
            seen.add(tid)
            runs.setdefault(tid, []).append((fr.frame_index, p))
        for tid in [t for t in runs if t not in seen]:  # absent: its run has ended
            yield runs.pop(tid)
    yield from runs.values()


def _stretches(mask: np.ndarray) -> Iterator[slice]:
    """Slices of the runs of True in a 1-D bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        yield slice(int(start), int(stop))


def _alpha(cutoff_hz: float, dt_s: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


def _one_euro(
    xy: np.ndarray, t_s: np.ndarray, fixed: np.ndarray, cfg: SmoothingConfig, fallback_dt_s: float
) -> np.ndarray:
    """(L, 2) positions filtered; rows where ``fixed`` stay as given and reset the filter."""
    out = xy.copy()
    speed_xy = np.zeros(2)
    for i in range(1, len(xy)):
        dt = t_s[i] - t_s[i - 1]
        dt = dt if dt > 0 else fallback_dt_s
        raw_speed = (xy[i] - out[i - 1]) / dt
        a_d = _alpha(cfg.d_cutoff_hz, dt)
        speed_xy = a_d * raw_speed + (1 - a_d) * speed_xy
        if fixed[i]:
            continue
        a = _alpha(cfg.min_cutoff_hz + cfg.beta * float(np.hypot(*speed_xy)), dt)
        out[i] = a * xy[i] + (1 - a) * out[i - 1]
    return out


def _savgol(xy: np.ndarray, fixed: np.ndarray, cfg: SmoothingConfig) -> np.ndarray:
    from scipy.signal import savgol_filter

    window = min(cfg.window, len(xy) if len(xy) % 2 else len(xy) - 1)
    if window <= cfg.order:
        return xy
    out = savgol_filter(xy, window, cfg.order, axis=0, mode="interp")
    out[fixed] = xy[fixed]
    return out


def smooth_result(result: VideoResult, config: SmoothingConfig) -> VideoResult:
    """``result`` with each track's joints smoothed over time (human-edited persons kept)."""
    new_xy = [fr.keypoints_xy.copy() for fr in result.frames]
    fallback_dt = 1.0 / result.meta.fps
    for run in _track_runs(result):
        frames = [result.frames[f] for f, _ in run]
        persons = [p for _, p in run]
        xy = np.stack([fr.keypoints_xy[p] for fr, p in zip(frames, persons, strict=True)])
        visible = np.stack([fr.keypoint_visible[p] for fr, p in zip(frames, persons, strict=True)])
        fixed = np.array([fr.human_edited[p] for fr, p in zip(frames, persons, strict=True)])
        t_s = np.array([fr.timestamp_s for fr in frames])
        out = xy.astype(np.float64)
        for k in range(xy.shape[1]):
            for sl in _stretches(visible[:, k]):
                seg = out[sl, k]
                if config.method == "one-euro":
                    out[sl, k] = _one_euro(seg, t_s[sl], fixed[sl], config, fallback_dt)
                else:
                    out[sl, k] = _savgol(seg, fixed[sl], config)
        for row, (f, p) in enumerate(run):
            new_xy[f][p] = out[row]
    frames = tuple(
        replace(fr, keypoints_xy=xy) if fr.num_persons else fr
        for fr, xy in zip(result.frames, new_xy, strict=True)
    )
    return VideoResult(result.meta, frames)


def joint_differences_px(result: VideoResult, order: int) -> np.ndarray:
    """Norms of the ``order``-th differences of every visible joint over consecutive frames
    of its track (px)."""
    norms = []
    for run in _track_runs(result):
        xy = np.stack([result.frames[f].keypoints_xy[p] for f, p in run]).astype(np.float64)
        visible = np.stack([result.frames[f].keypoint_visible[p] for f, p in run])
        for k in range(xy.shape[1]):
            for sl in _stretches(visible[:, k]):
                if sl.stop - sl.start > order:
                    norms.append(np.linalg.norm(np.diff(xy[sl, k], n=order, axis=0), axis=1))
    return np.concatenate(norms) if norms else np.zeros(0)


def mean_acceleration_px(result: VideoResult) -> float:
    """Jitter: mean |x[t+1] - 2 x[t] + x[t-1]| of visible joints per track, px/frame² (NaN
    when no joint is visible in three consecutive frames)."""
    steps = joint_differences_px(result, 2)
    return float(steps.mean()) if len(steps) else float("nan")


def mean_displacement_px(result: VideoResult) -> float:
    """Mean frame-to-frame displacement |x[t+1] - x[t]| of visible joints per track, px/frame."""
    steps = joint_differences_px(result, 1)
    return float(steps.mean()) if len(steps) else float("nan")
