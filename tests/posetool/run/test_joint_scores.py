"""A refined joint's score with the detector's confidence of the joint mixed in."""

from __future__ import annotations

import numpy as np
import pytest

from posetool.run.joint_scores import joint_scores

PEAK = np.array([[0.8, 0.6, 0.9], [0.5, 0.4, 0.7]], np.float32)
PRIOR = np.array([[0.2, 0.9, 0.0], [1.0, 0.0, 0.25]], np.float32)  # 0: the prior lacks it


def test_weight_zero_is_the_peak_and_one_the_prior_where_it_has_the_joint() -> None:
    np.testing.assert_array_equal(joint_scores(PEAK, PRIOR, 0.0), PEAK)
    np.testing.assert_allclose(
        joint_scores(PEAK, PRIOR, 1.0), np.where(PRIOR > 0, PRIOR, PEAK), rtol=1e-6
    )


def test_half_is_the_geometric_mean_and_a_joint_the_prior_lacks_keeps_its_peak() -> None:
    got = joint_scores(PEAK, PRIOR, 0.5)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got[0, 0], np.sqrt(0.8 * 0.2), rtol=1e-6)  # seen badly: lower
    np.testing.assert_allclose(got[1, 0], np.sqrt(0.5), rtol=1e-6)  # seen well: higher
    assert got[0, 2] == PEAK[0, 2] and got[1, 1] == PEAK[1, 1]
    # the order of two joints follows the detector's confidence where the peaks tie
    tie = joint_scores(np.full((2, 1), 0.6), np.array([[0.3], [0.9]]), 0.5)
    assert tie[0, 0] < tie[1, 0]


def test_bad_weight_or_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="prior_weight"):
        joint_scores(PEAK, PRIOR, 1.5)
    with pytest.raises(ValueError, match="shape"):
        joint_scores(PEAK, PRIOR[:, :2], 0.5)
