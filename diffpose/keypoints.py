"""PoseTrack keypoint layout: the 17 slots, skeleton, flip pairs and maps from other layouts.

Everything the app and the model library share about keypoints lives here
(see docs/POSETRACK.md). Shape letters: K keypoints.
"""

from __future__ import annotations

NUM_KEYPOINTS = 17

#: PoseTrack 2018/2021 slot names, index = slot.
KEYPOINT_NAMES: tuple[str, ...] = (
    "nose",
    "head_bottom",
    "head_top",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)

#: Slots that PoseTrack never labels (ears are (0, 0, 0) placeholders).
PLACEHOLDER_SLOTS: tuple[int, ...] = (3, 4)

#: The 15 evaluated joints: every slot but the ears.
EVALUATED_SLOTS: tuple[int, ...] = tuple(
    k for k in range(NUM_KEYPOINTS) if k not in PLACEHOLDER_SLOTS
)

#: Skeleton as 1-based slot pairs, exactly as in the PoseTrack ``categories`` entry (the
#: same pairs as COCO's person skeleton: the two layouts differ only in slots 1 and 2).
SKELETON_1BASED: tuple[tuple[int, int], ...] = (
    (16, 14),
    (14, 12),
    (17, 15),
    (15, 13),
    (12, 13),
    (6, 12),
    (7, 13),
    (6, 7),
    (6, 8),
    (7, 9),
    (8, 10),
    (9, 11),
    (2, 3),
    (1, 2),
    (1, 3),
    (2, 4),
    (3, 5),
    (4, 6),
    (5, 7),
)

#: Skeleton as 0-based slot pairs, for drawing.
SKELETON: tuple[tuple[int, int], ...] = tuple((a - 1, b - 1) for a, b in SKELETON_1BASED)

#: Left/right pairs swapped by a horizontal flip (0-based slots).
FLIP_PAIRS: tuple[tuple[int, int], ...] = (
    (3, 4),
    (5, 6),
    (7, 8),
    (9, 10),
    (11, 12),
    (13, 14),
    (15, 16),
)


def flip_permutation() -> tuple[int, ...]:
    """Slot order after a horizontal flip: ``flipped[k] = original[perm[k]]``."""
    perm = list(range(NUM_KEYPOINTS))
    for a, b in FLIP_PAIRS:
        perm[a], perm[b] = b, a
    return tuple(perm)


#: Columns of the paper's result tables and the slots each one averages.
TABLE_COLUMNS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("Head", (2, 1, 0)),  # head_top, neck (head_bottom), nose
    ("Shoulder", (5, 6)),
    ("Elbow", (7, 8)),
    ("Wrist", (9, 10)),
    ("Hip", (11, 12)),
    ("Knee", (13, 14)),
    ("Ankle", (15, 16)),
)

# Maps from other layouts: ``MAP[source_index] = posetrack_slot`` for joints that have a slot.

#: COCO-17 keypoint names, index = COCO slot: PoseTrack's but eyes in slots 1 and 2.
COCO17_KEYPOINT_NAMES: tuple[str, ...] = (
    KEYPOINT_NAMES[0],
    "left_eye",
    "right_eye",
    *KEYPOINT_NAMES[3:],
)

#: COCO-17 (nose, eyes, ears, shoulders, ...). Eyes have no PoseTrack slot.
COCO17_TO_POSETRACK: dict[int, int] = {0: 0, 3: 3, 4: 4, **{k: k for k in range(5, 17)}}

#: The 13 joints COCO and PoseTrack share and PoseTrack evaluates (nose, shoulders..ankles).
COCO17_SHARED_EVALUATED: tuple[int, ...] = (0, *range(5, 17))

#: PoseTrack slots of the legs and arms in the order LSP, MPII and PoseTrack 2017 list them:
#: r_ankle, r_knee, r_hip, l_hip, l_knee, l_ankle; r_wrist, r_elbow, r_shoulder, l_shoulder,
#: l_elbow, l_wrist.
_LEG_SLOTS: tuple[int, ...] = (16, 14, 12, 11, 13, 15)
_ARM_SLOTS: tuple[int, ...] = (10, 8, 6, 5, 7, 9)


def _listed_from(first_index: int, slots: tuple[int, ...]) -> dict[int, int]:
    """``{first_index + i: slots[i]}``: a run of source joints listed one after another."""
    return {first_index + i: slot for i, slot in enumerate(slots)}


#: LSP-14: legs (0-5), arms (6-11), neck, head_top.
LSP14_TO_POSETRACK: dict[int, int] = {
    **_listed_from(0, _LEG_SLOTS),
    **_listed_from(6, _ARM_SLOTS),
    12: 1,
    13: 2,
}

#: MPII-16: legs (0-5), pelvis, thorax, upper_neck, head_top, arms (10-15). Pelvis and
#: thorax have no PoseTrack slot; upper_neck is head_bottom.
MPII16_TO_POSETRACK: dict[int, int] = {
    **_listed_from(0, _LEG_SLOTS),
    8: 1,
    9: 2,
    **_listed_from(10, _ARM_SLOTS),
}

#: PoseTrack 2017 annolist joint ids 0..14: legs (0-5), arms (6-11), neck, nose, head_top.
POSETRACK17_TO_POSETRACK: dict[int, int] = {
    **_listed_from(0, _LEG_SLOTS),
    **_listed_from(6, _ARM_SLOTS),
    12: 1,
    13: 0,
    14: 2,
}

LAYOUT_MAPS: dict[str, dict[int, int]] = {
    "coco17": COCO17_TO_POSETRACK,
    "lsp14": LSP14_TO_POSETRACK,
    "mpii16": MPII16_TO_POSETRACK,
    "posetrack17": POSETRACK17_TO_POSETRACK,
}


def to_posetrack(layout: str, keypoints, valid=None):
    """Map keypoints of another layout into the 17 PoseTrack slots.

    Args:
        layout: one of ``LAYOUT_MAPS`` ("coco17", "lsp14", "mpii16", "posetrack17").
        keypoints: array (..., K_src, D) of source keypoints (D = 2 or 3).
        valid: optional bool array (..., K_src), which source joints are labelled.

    Returns:
        ``(keypoints_pt, weights)``: (..., 17, D) with zeros in slots the source does not
        fill, and float weights (..., 17) that are 1 where the slot came from a labelled
        source joint and 0 elsewhere.
    """
    import numpy as np

    try:
        mapping = LAYOUT_MAPS[layout]
    except KeyError:
        raise ValueError(
            f"unknown keypoint layout {layout!r}; known: {sorted(LAYOUT_MAPS)}"
        ) from None
    src = np.asarray(keypoints, dtype=np.float64)
    n_src = max(mapping) + 1
    if src.ndim < 2 or src.shape[-2] < n_src:
        raise ValueError(f"layout {layout!r} needs at least {n_src} joints, got shape {src.shape}")
    out = np.zeros((*src.shape[:-2], NUM_KEYPOINTS, src.shape[-1]), dtype=np.float64)
    weights = np.zeros((*src.shape[:-2], NUM_KEYPOINTS), dtype=np.float32)
    ok = np.ones(src.shape[:-1], dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    for s, d in mapping.items():
        out[..., d, :] = src[..., s, :]
        weights[..., d] = ok[..., s]
    return out, weights
