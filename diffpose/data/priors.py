"""The detector's pose per training sample, stored beside the data: write once, attach later.

A model that refines the detector's pose (``DecoderConfig.prior``) trains on samples that
carry it (:attr:`PoseSample.prior_xy`). The detector lives in the app (``posetool
detector-priors`` computes them); this file format is the hand-over: an ``.npz`` with
``keys`` (S,) str, ``keypoints_xy`` (S, K, 2) image pixels in PoseTrack slots, ``scores``
(S, K) and ``source``, the ``decoder.prior_source`` they are for ("detection" or "crop"; a
file without it is "detection"); optionally ``others_xy`` (S, M, K, 2) and ``others_scores``
(S, M, K), the detector's poses of the other persons in each sample's key frame, nearest
first, padded with zero scores (:data:`MAX_OTHER_PERSONS` rows), for models told where
everyone else's joints are (``decoder.prior_others``). A sample's key is its key frame's
absolute path and its box to 0.1 px.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from diffpose.data.samples import PoseSample
from diffpose.keypoints import NUM_KEYPOINTS

#: How many other persons' poses a sample carries (the nearest ones): M.
MAX_OTHER_PERSONS = 4


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
    others: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Write the priors of ``samples`` (arrays in sample order) atomically; ``source``: the
    ``decoder.prior_source`` they were made for; ``others``: (S, M, K, 2) image px and
    (S, M, K) scores of the other persons' poses (see the module's docstring)."""
    n = len(samples)
    keypoints_xy = np.asarray(keypoints_xy, np.float32)
    scores = np.asarray(scores, np.float32)
    if keypoints_xy.shape != (n, NUM_KEYPOINTS, 2) or scores.shape != (n, NUM_KEYPOINTS):
        raise ValueError(
            f"need ({n}, 17, 2) keypoints and ({n}, 17) scores, got "
            f"{keypoints_xy.shape} and {scores.shape}"
        )
    arrays = {"keypoints_xy": keypoints_xy, "scores": scores}
    if others is not None:
        others_xy, others_scores = (np.asarray(a, np.float32) for a in others)
        if others_xy.shape != (n, MAX_OTHER_PERSONS, NUM_KEYPOINTS, 2) or (
            others_scores.shape != others_xy.shape[:3]
        ):
            raise ValueError(
                f"need ({n}, {MAX_OTHER_PERSONS}, 17, 2) and ({n}, {MAX_OTHER_PERSONS}, 17) "
                f"other persons' poses, got {others_xy.shape} and {others_scores.shape}"
            )
        arrays.update(others_xy=others_xy, others_scores=others_scores)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.npz")
    keys = np.array([sample_key(s) for s in samples])
    np.savez_compressed(tmp, keys=keys, source=np.array(source), **arrays)
    tmp.replace(path)


def with_priors(
    samples: Sequence[PoseSample],
    keypoints_xy: np.ndarray,
    scores: np.ndarray,
    others: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[PoseSample]:
    """``samples`` carrying the priors given as arrays in sample order: (S, K, 2) image px
    and (S, K) scores; ``others``: (S, M, K, 2) and (S, M, K), the other persons' poses."""
    out = []
    for i, s in enumerate(samples):
        s = replace(s, prior_xy=np.asarray(keypoints_xy[i], np.float64), prior_scores=scores[i])
        if others is not None:
            s = replace(s, others_xy=np.asarray(others[0][i], np.float64),
                        others_scores=np.asarray(others[1][i], np.float32))  # fmt: skip
        out.append(s)
    return out


def attach_priors(
    samples: Sequence[PoseSample],
    *paths: str | Path,
    source: str | None = None,
    alternative: bool = False,
) -> list[PoseSample]:
    """``samples`` with their priors from the ``.npz`` files ``paths``; with ``alternative``,
    as their alternative prior (``PoseSample.alt_prior_xy``) instead. The other persons'
    poses of files that hold them come with the (not alternative) prior.

    Raises:
        ValueError: a sample has no prior in any of the files (name the first few), or a file
            was made for another ``source`` than the one asked for.
    """
    table: dict[str, tuple] = {}
    for path in paths:
        with np.load(path, allow_pickle=False) as data:
            made_for = str(data["source"]) if "source" in data.files else "detection"
            if source is not None and made_for != source:
                raise ValueError(
                    f"{path} holds {made_for!r} priors, this model takes {source!r} ones "
                    f"(posetool detector-priors{' --crop' if source == 'crop' else ''})"
                )
            n = len(data["keys"])
            others_xy = data["others_xy"] if "others_xy" in data.files else [None] * n
            others_sc = data["others_scores"] if "others_scores" in data.files else [None] * n
            for row in zip(
                data["keys"], data["keypoints_xy"], data["scores"], others_xy, others_sc,
                strict=True,
            ):  # fmt: skip
                table[str(row[0])] = row[1:]
    out, missing = [], []
    for s in samples:
        hit = table.get(sample_key(s))
        if hit is None:
            missing.append(sample_key(s))
            continue
        xy, scores = hit[0].astype(np.float64), hit[1]
        if alternative:
            out.append(replace(s, alt_prior_xy=xy, alt_prior_scores=scores))
        elif hit[2] is not None:
            out.append(replace(s, prior_xy=xy, prior_scores=scores,
                               others_xy=hit[2].astype(np.float64), others_scores=hit[3]))  # fmt: skip
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


__all__ = ["MAX_OTHER_PERSONS", "attach_priors", "sample_key", "save_priors", "with_priors"]
