"""joint_weighted_mse: the weighted per-joint mean, and online hard keypoint mining."""

import pytest
import torch

from diffpose.joint_loss import joint_weighted_mse


def test_every_joint_kept_is_the_weighted_mean_over_labelled_joints() -> None:
    err = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w = torch.tensor([[1.0, 0.0, 2.0], [1.0, 1.0, 0.0]])
    expected = (1 * 1 + 3 * 2 + 4 + 5) / (1 + 2 + 1 + 1)
    assert joint_weighted_mse(err, w).item() == pytest.approx(expected)
    # k at or past K keeps every joint
    assert joint_weighted_mse(err, w, hard_joints=3).item() == pytest.approx(expected)


def test_hard_joints_keep_each_samples_largest_weighted_errors_and_their_weights() -> None:
    err = torch.tensor([[0.1, 5.0, 1.0, 0.2], [3.0, 0.5, 0.4, 2.0]])
    w = torch.tensor([[1.0, 0.0, 2.0, 1.0], [1.0, 1.0, 1.0, 2.0]])
    # sample 0: w·e = 0.1, 0, 2.0, 0.2 -> keeps 2.0 (w 2) and 0.2 (w 1); the unlabelled
    # joint's large error never counts. sample 1: 3.0, 0.5, 0.4, 4.0 -> keeps 4.0 (w 2), 3.0 (w 1)
    expected = (2.0 + 0.2 + 4.0 + 3.0) / (2 + 1 + 2 + 1)
    assert joint_weighted_mse(err, w, hard_joints=2).item() == pytest.approx(expected)


def test_the_gradient_reaches_only_the_kept_joints() -> None:
    err = torch.tensor([[0.1, 0.9, 0.5]], requires_grad=True)
    joint_weighted_mse(err, torch.ones(1, 3), hard_joints=1).backward()
    assert err.grad.tolist() == [[0.0, 1.0, 0.0]]


def test_bad_shapes_and_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="both be"):
        joint_weighted_mse(torch.ones(2, 3), torch.ones(2, 4))
    with pytest.raises(ValueError, match="hard_joints"):
        joint_weighted_mse(torch.ones(2, 3), torch.ones(2, 3), hard_joints=-1)
