"""Training samples: a clip of image files around a labelled key frame.

Every dataset loader returns :class:`PoseSample` lists with joints already in the 17 PoseTrack
slots and per-joint weights (0 where the source has no label). Shape letters: T frames,
K keypoints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diffpose.keypoints import NUM_KEYPOINTS


@dataclass(frozen=True, eq=False)
class PoseSample:
    """One person in one labelled key frame, with its temporal neighbours.

    Attributes:
        frame_paths: T image paths; the key frame is in the middle (index T // 2).
        keypoints_xy: (K, 2) key-frame joints in image pixels.
        weights: (K,) 1 for labelled joints, 0 elsewhere.
        box_xyxy: (4,) the person box in the key frame (image pixels).
        static: True when the frames are copies of one still image.
        source: dataset name, for counts in the model card.
        frame_index: index of the key frame in its sequence file (-1 for still images).
        prior_xy: (K, 2) the detector's pose of this person in image pixels (PoseTrack
            slots), for models that refine it; None where none was computed.
        prior_scores: (K,) its keypoint confidences (0 for slots the detector lacks).
        alt_prior_xy: (K, 2) another pose of the detector for the same person (e.g. the
            whole-frame detection's beside the crop pass's prior), which training may give
            instead (``AugmentConfig.prior_alt_prob``); None where there is none.
        alt_prior_scores: (K,) its keypoint confidences.
        others_xy: (M, K, 2) the detector's poses of the other persons in the key frame,
            nearest first (image pixels, PoseTrack slots; rows of zero scores pad it), for
            models that are told where everyone else's joints are
            (``DecoderConfig.prior_others``); None where none were computed.
        others_scores: (M, K) their keypoint confidences.
    """

    frame_paths: tuple[str, ...]
    keypoints_xy: np.ndarray
    weights: np.ndarray
    box_xyxy: np.ndarray
    static: bool = False
    source: str = ""
    frame_index: int = -1
    prior_xy: np.ndarray | None = None
    prior_scores: np.ndarray | None = None
    alt_prior_xy: np.ndarray | None = None
    alt_prior_scores: np.ndarray | None = None
    others_xy: np.ndarray | None = None
    others_scores: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.frame_paths) % 2 != 1:
            raise ValueError(
                f"need an odd number of frames (2*delta+1), got {len(self.frame_paths)}"
            )
        if np.shape(self.keypoints_xy) != (NUM_KEYPOINTS, 2) or np.shape(self.weights) != (
            NUM_KEYPOINTS,
        ):
            raise ValueError("keypoints_xy must be (17, 2) and weights (17,)")
        if np.shape(self.box_xyxy) != (4,):
            raise ValueError(f"box_xyxy must be (4,), got {np.shape(self.box_xyxy)}")
        for xy, scores in (("prior_xy", "prior_scores"), ("alt_prior_xy", "alt_prior_scores")):
            if (getattr(self, xy) is None) != (getattr(self, scores) is None):
                raise ValueError(f"{xy} and {scores} come together")
            if getattr(self, xy) is not None and (
                np.shape(getattr(self, xy)) != (NUM_KEYPOINTS, 2)
                or np.shape(getattr(self, scores)) != (NUM_KEYPOINTS,)
            ):
                raise ValueError(f"{xy} must be (17, 2) and {scores} (17,)")
        if (self.others_xy is None) != (self.others_scores is None):
            raise ValueError("others_xy and others_scores come together")
        if self.others_xy is not None and (
            np.ndim(self.others_xy) != 3
            or np.shape(self.others_xy)[1:] != (NUM_KEYPOINTS, 2)
            or np.shape(self.others_scores) != np.shape(self.others_xy)[:2]
        ):
            raise ValueError("others_xy must be (M, 17, 2) and others_scores (M, 17)")

    @property
    def key_frame_path(self) -> str:
        """The labelled frame (the middle of the clip)."""
        return self.frame_paths[len(self.frame_paths) // 2]


def keypoint_box(
    keypoints_xy: np.ndarray, weights: np.ndarray, pad: float = 0.1
) -> np.ndarray | None:
    """A box around the labelled joints, padded by ``pad`` of its size (None if < 2 joints)."""
    pts = keypoints_xy[weights > 0]
    if len(pts) < 2:
        return None
    (x1, y1), (x2, y2) = pts.min(0), pts.max(0)
    px, py = (x2 - x1) * pad, (y2 - y1) * pad
    return np.array([x1 - px, y1 - py, x2 + px, y2 + py], dtype=np.float64)


def window(paths: list[str], index: int, delta: int) -> tuple[str, ...]:
    """Frames index-delta..index+delta, the key frame repeated where the sequence ends."""
    return tuple(
        paths[i] if 0 <= i < len(paths) else paths[index]
        for i in range(index - delta, index + delta + 1)
    )
