"""Whether a folder's images follow one another as a video's frames do, by their content: two
neighbouring frames of a video show nearly the same picture, two unrelated photos do not.

Each image is reduced to a 32×32 grey thumbnail, normalised to zero mean and unit spread (so
exposure changes do not count; a near-flat picture is not stretched); two images differ by
the mean absolute difference of their thumbnails. Measured on the shared data
(runs/frame_likeness_data.log), as medians over a video: neighbouring frames of the ten
videos and of the PoseTrack sample's frame folder differ by at most 0.34, frames 1, 2 and
3 s apart by at most 0.66, 0.77 and 0.87; neighbouring COCO photos by a median of 1.13 (the
closest pair 0.75). The cut, 0.9, keeps frames saved up to about 3 s apart a video; photos
of one scene that look alike (a burst) are read as one video too, where their persons
recur.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["NEIGHBOUR_DIFFERENCE_LIMIT", "neighbours_look_alike", "thumbnail_difference"]

#: Median difference of sampled neighbouring images above which they are unrelated photos.
NEIGHBOUR_DIFFERENCE_LIMIT = 0.9
#: Neighbouring pairs sampled (evenly over the folder).
_PAIRS = 8
_SIDE_PX = 32
#: Smallest grey-level spread a thumbnail is divided by (of 255).
_MIN_SPREAD_GREY = 4.0


def _thumbnail(path: Path) -> np.ndarray | None:
    import cv2

    grey = cv2.imread(str(path), cv2.IMREAD_REDUCED_GRAYSCALE_4)
    if grey is None or grey.size == 0:
        return None
    small = cv2.resize(grey, (_SIDE_PX, _SIDE_PX), interpolation=cv2.INTER_AREA)
    small = small.astype(np.float32)
    # a near-flat picture (dark, capped lens) is not stretched until its noise fills the range
    return (small - small.mean()) / max(float(small.std()), _MIN_SPREAD_GREY)


def thumbnail_difference(a: Path, b: Path) -> float | None:
    """The difference of two images' normalised thumbnails (module doc); None when either
    cannot be decoded."""
    return _difference(_thumbnail(a), _thumbnail(b))


def _difference(ta: np.ndarray | None, tb: np.ndarray | None) -> float | None:
    if ta is None or tb is None:
        return None
    return float(np.mean(np.abs(ta - tb)))


def neighbours_look_alike(images: Sequence[Path]) -> bool:
    """Whether ``images`` (in their order) look like a video's frames: the median difference
    of up to eight neighbouring pairs, spread evenly over them, is at most
    :data:`NEIGHBOUR_DIFFERENCE_LIMIT`. True when no pair can be compared (fewer than two
    images, or undecodable ones): the folder stays a video, as before."""
    starts = (
        sorted({int(i) for i in np.linspace(0, len(images) - 2, num=_PAIRS)})
        if len(images) > 1
        else []
    )
    # in a short folder the pairs share images: each is decoded once
    thumbs = {i: _thumbnail(images[i]) for i in sorted({*starts, *(s + 1 for s in starts)})}
    differences = [d for i in starts if (d := _difference(thumbs[i], thumbs[i + 1])) is not None]
    return not differences or float(np.median(differences)) <= NEIGHBOUR_DIFFERENCE_LIMIT
