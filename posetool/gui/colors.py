"""Colours of the overlay: a stable colour per track id (the same id gets the same colour in
every frame and run; hues step by the golden ratio so consecutive ids look different), and the
left/right tints of limbs. Qt-free (RGB tuples).
"""

from __future__ import annotations

import colorsys

from diffpose.keypoints import KEYPOINT_NAMES

__all__ = ["LEFT_RGB", "RIGHT_RGB", "joint_side", "limb_side", "side_rgb", "track_rgb"]

_GOLDEN = 0.618033988749895


def track_rgb(track_id: int) -> tuple[int, int, int]:
    """An (r, g, b) colour in 0..255 for ``track_id``, bright enough on video."""
    hue = (0.11 + int(track_id) * _GOLDEN) % 1.0
    value = 0.95 if int(track_id) % 2 == 0 else 0.8
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, value)
    return round(r * 255), round(g * 255), round(b * 255)


#: Left limbs and joints in a warm tint, right ones in a cool tint, for every person alike
#: (an orange/blue pair stays apart for the common colour-vision deficiencies). Joints and
#: lines on the body's midline, the box and the id keep the person's colour.
LEFT_RGB = (255, 150, 30)
RIGHT_RGB = (30, 175, 255)


def joint_side(joint: int) -> str:
    """ "left", "right" or "centre" for a PoseTrack joint slot."""
    name = KEYPOINT_NAMES[joint]
    return (
        "left" if name.startswith("left_") else "right" if name.startswith("right_") else "centre"
    )


def limb_side(joint_a: int, joint_b: int) -> str:
    """The side of the skeleton line between two joints: "left"/"right" when both are on
    that side, else "centre" (e.g. shoulder to shoulder)."""
    a, b = joint_side(joint_a), joint_side(joint_b)
    return a if a == b else "centre"


def side_rgb(side: str, person_rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """The colour of a joint or line on ``side`` of a person drawn in ``person_rgb``."""
    return LEFT_RGB if side == "left" else RIGHT_RGB if side == "right" else person_rgb
