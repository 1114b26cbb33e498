"""Paired bootstrap of the AP difference between two models scored on the same labelled frames.

Small labelled sets move by whole persons: a joint group of 30 labelled joints gains or loses
about 3 AP with each of them. Whether "A is below B by a point" says something about the
models or only about which frames were labelled is what this measures. The evaluated frames
are resampled with replacement — the same draw for both models, so the difference is paired —
and each model's AP per joint group (:func:`~diffpose.evaluation.evaluate.joint_group_columns`)
is computed again on every resample from its per-frame assignments
(:func:`~diffpose.evaluation.evaluate.assign_sequences`; the matching itself is not redone).

Frames a few apart show the same persons in nearly the same pose, so they are not independent
draws: :func:`neighbour_clusters` groups them, and the clusters are what is resampled (a
percentile interval from few clusters is coarse, and from one it is a single point). MOTA is
not bootstrapped: it needs the frames in their order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from diffpose.evaluation.assignment import FrameAssignment
from diffpose.evaluation.evaluate import ap_per_joint, joint_group_columns

__all__ = ["GroupDifference", "neighbour_clusters", "paired_bootstrap"]


@dataclass(frozen=True)
class GroupDifference:
    """One joint group's AP (x100) of models A and B, and the bootstrap of A − B.

    Attributes:
        group: a column of poseval's table ("Head", ..., "Ankle", "Total").
        a, b: each model's AP on the frames as they are.
        low, high: the percentile interval of A − B over the resamples (those in which the
            group has a labelled joint; NaN if none has).
        share_a_below: the share of those resamples in which A's AP is below B's.
    """

    group: str
    a: float
    b: float
    low: float
    high: float
    share_a_below: float

    @property
    def difference(self) -> float:
        return self.a - self.b


def neighbour_clusters(frame_numbers: Sequence[Sequence[int]], max_gap: int) -> list[int]:
    """A cluster id per evaluated frame, sequences in order: in each sequence, frames whose
    numbers (ascending) lie at most ``max_gap`` after the previous evaluated frame's join its
    cluster; ``max_gap`` 0 makes every frame its own cluster. Sequences never share one."""
    if max_gap < 0:
        raise ValueError(f"max_gap must be >= 0, got {max_gap}")
    ids: list[int] = []
    next_id = 0
    for numbers in frame_numbers:
        previous = None
        for number in numbers:
            if previous is not None and number <= previous:
                raise ValueError(f"frame numbers must ascend within a sequence, got {numbers}")
            if previous is None or number - previous > max_gap:
                next_id += 1
            ids.append(next_id - 1)
            previous = number
    return ids


def paired_bootstrap(
    frames_a: Sequence[FrameAssignment],
    frames_b: Sequence[FrameAssignment],
    clusters: Sequence[int] | None = None,
    samples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> list[GroupDifference]:
    """Bootstrap each joint group's AP difference of model A against model B.

    Args:
        frames_a, frames_b: the two models' assignments of the same evaluated frames, in the
            same order (``[fa for seq in assign_sequences(pairs) for fa in seq]`` with the
            same ground truth).
        clusters: a cluster id per frame (:func:`neighbour_clusters`); None: every frame its
            own.
        samples: resamples drawn.
        seed: seeds the draws.
        confidence: of the percentile interval.

    Raises:
        ValueError: the two lists are not of the same frames (their ground-truth joint counts
            differ), or the arguments are out of range.
    """
    if len(frames_a) != len(frames_b) or any(
        not np.array_equal(fa.num_gt, fb.num_gt) for fa, fb in zip(frames_a, frames_b, strict=True)
    ):
        raise ValueError("the two models' assignments are not of the same ground-truth frames")
    if not frames_a:
        raise ValueError("no evaluated frames")
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    ids = np.arange(len(frames_a)) if clusters is None else np.asarray(clusters)
    if ids.shape != (len(frames_a),):
        raise ValueError(f"clusters must give one id per frame ({len(frames_a)}), got {ids.shape}")
    members = [np.flatnonzero(ids == c) for c in np.unique(ids)]

    def columns(frames: Sequence[FrameAssignment], rows: np.ndarray) -> dict[str, float]:
        return joint_group_columns(ap_per_joint([frames[i] for i in rows])[0])

    every = np.arange(len(frames_a))
    full_a, full_b = columns(frames_a, every), columns(frames_b, every)
    rng = np.random.default_rng(seed)
    diffs: dict[str, list[float]] = {group: [] for group in full_a}
    for _ in range(samples):
        drawn = rng.integers(0, len(members), len(members))
        rows = np.concatenate([members[c] for c in drawn])
        col_a, col_b = columns(frames_a, rows), columns(frames_b, rows)
        for group in diffs:
            diffs[group].append(col_a[group] - col_b[group])
    tail = (1.0 - confidence) / 2 * 100
    out = []
    for group, values in diffs.items():
        arr = np.asarray(values)
        arr = arr[np.isfinite(arr)]  # a resample without a labelled joint of the group: undefined
        if not arr.size:
            arr = np.array([np.nan])
        low, high = np.percentile(arr, [tail, 100 - tail])
        out.append(
            GroupDifference(
                group=group,
                a=full_a[group],
                b=full_b[group],
                low=float(low),
                high=float(high),
                share_a_below=float(np.mean(arr < 0)),
            )
        )
    return out
