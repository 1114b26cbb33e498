"""The detector's pose per training sample, stored beside the data: write once, attach later.

A model that refines the detector's pose (``DecoderConfig.prior``) trains on samples that
carry it (:attr:`PoseSample.prior_xy`). The detector lives in the app (``posetool
detector-priors`` computes them); this file format is the hand-over: an ``.npz`` with
``keys`` (S,) str, ``keypoints_xy`` (S, K, 2) image pixels in PoseTrack slots, ``scores``
(S, K) and ``source``, the ``decoder.prior_source`` they are for ("detection" or "crop"; a
file without it is "detection"). A sample's key is its key frame's absolute path and its box
to 0.1 px.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from diffpose.data.samples import PoseSample
from diffpose.keypoints import NUM_KEYPOINTS


def sample_key(sample: PoseSample) -> str:
    """The identity of a sample across runs: key frame path and box."""
    box = ",".join(f"{v:.1f}" for v in np.asarray(sample.box_xyxy, np.float64))
    return f"{Path(sample.key_frame_path).resolve()}|{box}"


def save_priors(
    path: str | Path,
    samples: Sequence[PoseSample],
    keypoints_xy: np.ndarray,
    scores: np.ndarray,
    source: str = "detection",
) -> None:
    """Write the priors of ``samples`` (arrays in sample order) atomically; ``source``: the
    ``decoder.prior_source`` they were made for."""
    n = len(samples)
    keypoints_xy = np.asarray(keypoints_xy, np.float32)
    scores = np.asarray(scores, np.float32)
    if keypoints_xy.shape != (n, NUM_KEYPOINTS, 2) or scores.shape != (n, NUM_KEYPOINTS):
        raise ValueError(
            f"need ({n}, 17, 2) keypoints and ({n}, 17) scores, got "
            f"{keypoints_xy.shape} and {scores.shape}"
        )
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.npz")
    keys = np.array([sample_key(s) for s in samples])
    np.savez_compressed(
        tmp, keys=keys, keypoints_xy=keypoints_xy, scores=scores, source=np.array(source)
    )
    tmp.replace(path)


def with_priors(
    samples: Sequence[PoseSample], keypoints_xy: np.ndarray, scores: np.ndarray
) -> list[PoseSample]:
    """``samples`` carrying the priors given as arrays in sample order: (S, K, 2) image px
    and (S, K) scores."""
    return [
        replace(s, prior_xy=np.asarray(keypoints_xy[i], np.float64), prior_scores=scores[i])
        for i, s in enumerate(samples)
    ]


def attach_priors(
    samples: Sequence[PoseSample],
    *paths: str | Path,
    source: str | None = None,
    alternative: bool = False,
) -> list[PoseSample]:
    """``samples`` with their priors from the ``.npz`` files ``paths``; with ``alternative``,
    as their alternative prior (``PoseSample.alt_prior_xy``) instead.

    Raises:
        ValueError: a sample has no prior in any of the files (name the first few), or a file
            was made for another ``source`` than the one asked for.
    """
    table: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for path in paths:
        with np.load(path, allow_pickle=False) as data:
            made_for = str(data["source"]) if "source" in data.files else "detection"
            if source is not None and made_for != source:
                raise ValueError(
                    f"{path} holds {made_for!r} priors, this model takes {source!r} ones "
                    f"(posetool detector-priors{' --crop' if source == 'crop' else ''})"
                )
            for key, xy, sc in zip(data["keys"], data["keypoints_xy"], data["scores"], strict=True):
                table[str(key)] = (xy, sc)
    out, missing = [], []
    for s in samples:
        hit = table.get(sample_key(s))
        if hit is None:
            missing.append(sample_key(s))
            continue
        xy, scores = hit[0].astype(np.float64), hit[1]
        if alternative:
            out.append(replace(s, alt_prior_xy=xy, alt_prior_scores=scores))
        else:
            out.append(replace(s, prior_xy=xy, prior_scores=scores))
    if missing:
        names = ", ".join(missing[:3])
        raise ValueError(
            f"{len(missing)} samples have no detector prior in "
            f"{[str(p) for p in paths]} (e.g. {names}): run posetool "
            "detector-priors on the same data"
        )
    return out


__all__ = ["attach_priors", "sample_key", "save_priors", "with_priors"]
