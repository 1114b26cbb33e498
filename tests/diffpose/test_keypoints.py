"""The PoseTrack slot layout and the maps from other layouts."""

from __future__ import annotations

import numpy as np
import pytest

from diffpose import keypoints as K


def test_slots_and_evaluated_joints():
    assert len(K.KEYPOINT_NAMES) == K.NUM_KEYPOINTS == 17
    assert (
        len(K.EVALUATED_SLOTS) == 15 and 3 not in K.EVALUATED_SLOTS and 4 not in K.EVALUATED_SLOTS
    )
    assert all(0 <= a < 17 and 0 <= b < 17 for a, b in K.SKELETON)


def test_flip_permutation_swaps_left_and_right():
    perm = K.flip_permutation()
    for a, b in K.FLIP_PAIRS:
        assert K.KEYPOINT_NAMES[a].replace("left", "right") == K.KEYPOINT_NAMES[b]
        assert perm[a] == b and perm[b] == a
    assert perm[0] == 0 and perm[1] == 1 and perm[2] == 2


@pytest.mark.parametrize(
    ("layout", "n_src", "src_name", "dst_name"),
    [
        ("lsp14", 14, 0, "right_ankle"),
        ("lsp14", 14, 12, "head_bottom"),
        ("lsp14", 14, 13, "head_top"),
        ("mpii16", 16, 9, "head_top"),
        ("mpii16", 16, 13, "left_shoulder"),
        ("coco17", 17, 0, "nose"),
        ("coco17", 17, 16, "right_ankle"),
        ("posetrack17", 15, 13, "nose"),
    ],
)
def test_layout_maps(layout, n_src, src_name, dst_name):
    src = np.zeros((n_src, 3))
    src[src_name] = (11, 22, 1)
    out, weights = K.to_posetrack(layout, src)
    slot = K.KEYPOINT_NAMES.index(dst_name)
    assert out[slot].tolist() == [11, 22, 1]
    assert weights[slot] == 1


def test_unlabelled_source_joints_get_zero_weight():
    out, weights = K.to_posetrack("lsp14", np.zeros((2, 14, 2)), valid=np.zeros((2, 14), bool))
    assert out.shape == (2, 17, 2) and not weights.any()
    _, w = K.to_posetrack("coco17", np.zeros((17, 2)))
    assert w[1] == 0 and w[2] == 0  # COCO has no head_bottom / head_top
    with pytest.raises(ValueError, match="unknown keypoint layout"):
        K.to_posetrack("h36m", np.zeros((17, 2)))
