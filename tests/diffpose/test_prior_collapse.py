"""collapse_pairs: a left/right pair of the prior put on one spot, as the detector errs."""

import pytest
import torch

from diffpose.keypoints import KEYPOINT_NAMES
from diffpose.train import TrainConfig
from diffpose.train.prior_collapse import LIMB_PAIRS, collapse_pairs


def _poses(b: int) -> torch.Tensor:
    return torch.rand(b, len(KEYPOINT_NAMES), 2, generator=torch.Generator().manual_seed(3)) * 60


def test_pairs_are_the_elbows_wrists_knees_and_ankles() -> None:
    names = {(KEYPOINT_NAMES[a], KEYPOINT_NAMES[b]) for a, b in LIMB_PAIRS}
    assert names == {(f"left_{j}", f"right_{j}") for j in ("elbow", "wrist", "knee", "ankle")}


def test_probability_one_puts_every_pair_on_one_spot_taken_from_either_side() -> None:
    xy = _poses(64)
    out = collapse_pairs(xy, 1.0, torch.Generator().manual_seed(0))
    pairs = [s for pair in LIMB_PAIRS for s in pair]
    others = [j for j in range(len(KEYPOINT_NAMES)) if j not in pairs]
    torch.testing.assert_close(out[:, others], xy[:, others])
    for left, right in LIMB_PAIRS:
        torch.testing.assert_close(out[:, left], out[:, right])
        kept_left = (out[:, left] == xy[:, left]).all(dim=1)
        kept_right = (out[:, right] == xy[:, right]).all(dim=1)
        assert (kept_left ^ kept_right).all()  # exactly one of the two moved
        assert kept_left.any() and kept_right.any()  # either side can be the one kept
    assert not torch.equal(out, xy) and torch.equal(xy, _poses(64))  # the input is not changed


def test_probability_zero_draws_nothing_and_a_share_is_drawn_otherwise() -> None:
    xy = _poses(2000)
    g = torch.Generator().manual_seed(0)
    assert collapse_pairs(xy, 0.0, g) is xy
    assert torch.equal(g.get_state(), torch.Generator().manual_seed(0).get_state())
    out = collapse_pairs(xy, 0.1, g)
    left, right = LIMB_PAIRS[-1]
    share = (out[:, left] == out[:, right]).all(dim=1).float().mean().item()
    assert 0.07 < share < 0.13


def test_bad_probabilities_are_refused() -> None:
    with pytest.raises(ValueError, match="prob"):
        collapse_pairs(_poses(2), 1.5)
    with pytest.raises(ValueError, match="prior_collapse_prob"):
        TrainConfig(prior_collapse_prob=-0.1)
