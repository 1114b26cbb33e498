"""IoU costs, the assignment solver and greedy IoU matching."""

from __future__ import annotations

import numpy as np
import pytest

from trackers.matching import (
    fuse_score,
    greedy_iou_matching,
    iou_distance,
    iou_matrix,
    linear_assignment,
)


def _iou_loop(box_a: np.ndarray, box_b: np.ndarray) -> float:
    inter_w = max(0.0, min(box_a[2], box_b[2]) - max(box_a[0], box_b[0]))
    inter_h = max(0.0, min(box_a[3], box_b[3]) - max(box_a[1], box_b[1]))
    inter = inter_w * inter_h
    area_a = (box_a[2] - box_a[0]) * (box_a[3] - box_a[1])
    area_b = (box_b[2] - box_b[0]) * (box_b[3] - box_b[1])
    return inter / (area_a + area_b - inter)


def _random_boxes(rng: np.random.Generator, count: int) -> np.ndarray:
    corner = rng.uniform(0, 200, (count, 2))
    size = rng.uniform(1, 120, (count, 2))
    return np.concatenate([corner, corner + size], axis=1)


def test_vectorised_iou_equals_a_direct_loop():
    rng = np.random.default_rng(3)
    boxes_a, boxes_b = _random_boxes(rng, 17), _random_boxes(rng, 23)
    expected = np.array([[_iou_loop(a, b) for b in boxes_b] for a in boxes_a])
    assert expected.max() > 0.3 and (expected == 0).any()  # the draw covers both cases
    np.testing.assert_allclose(iou_matrix(boxes_a, boxes_b), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(iou_distance(boxes_a, boxes_b), 1 - expected, atol=1e-12)


def test_iou_known_values():
    box = np.array([[0.0, 0.0, 10.0, 10.0]])
    others = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [10, 0, 20, 10], [0, 0, 0, 0]], float)
    np.testing.assert_allclose(iou_matrix(box, others), [[1.0, 1 / 3, 0.0, 0.0]])


@pytest.mark.parametrize("shape", [(0, 0), (0, 3), (3, 0)])
def test_empty_sides(shape):
    boxes_a, boxes_b = np.zeros((shape[0], 4)), np.zeros((shape[1], 4))
    assert iou_matrix(boxes_a, boxes_b).shape == shape
    matches, rows_left, cols_left = linear_assignment(np.zeros(shape), thresh=0.8)
    assert matches.shape == (0, 2) and matches.dtype == np.int64
    np.testing.assert_array_equal(rows_left, np.arange(shape[0]))
    np.testing.assert_array_equal(cols_left, np.arange(shape[1]))


def test_assignment_is_minimum_cost_and_gated():
    cost = np.array([[0.1, 0.2, 0.9], [0.15, 0.9, 0.9], [0.95, 0.95, 0.95]])
    matches, rows_left, cols_left = linear_assignment(cost, thresh=0.8)
    # greedy would take (0, 0); the optimum is (0, 1) + (1, 0); row 2 only has costs above 0.8
    np.testing.assert_array_equal(matches, [[0, 1], [1, 0]])
    np.testing.assert_array_equal(rows_left, [2])
    np.testing.assert_array_equal(cols_left, [2])


def test_assignment_rectangular():
    cost = np.array([[0.5, 0.1, 0.3, 0.2]])
    matches, rows_left, cols_left = linear_assignment(cost, thresh=0.8)
    np.testing.assert_array_equal(matches, [[0, 1]])
    assert rows_left.size == 0
    np.testing.assert_array_equal(cols_left, [0, 2, 3])
    matches, _, _ = linear_assignment(cost.T, thresh=0.8)
    np.testing.assert_array_equal(matches, [[1, 0]])


def test_greedy_iou_matching_takes_the_best_pair_first_and_is_one_to_one():
    a = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [100, 100, 110, 110]], float)
    b = np.array([[1, 0, 11, 10], [0, 0, 10, 10]], float)
    # a0-b1 is exact (IoU 1): taken first; a1 then gets b0 (IoU 0.82), a2 nothing
    assert greedy_iou_matching(a, b, 0.5).tolist() == [1, 0, -1]
    # the best pair is kept even where pairing otherwise would match both: A-X (IoU 1) is
    # taken, and B is left alone, though A-Y and B-X (IoU 0.6 each) would pair both
    c = np.array([[0, 0, 10, 10], [-2.5, 0, 7.5, 10]])  # A, B
    d = np.array([[0, 0, 10, 10], [2.5, 0, 12.5, 10]])  # X, Y
    np.testing.assert_allclose(iou_matrix(c, d), [[1.0, 0.6], [0.6, 1 / 3]])
    assert greedy_iou_matching(c, d, 0.5).tolist() == [0, -1]
    assert greedy_iou_matching(a, b, 1.01).tolist() == [-1, -1, -1]
    assert greedy_iou_matching(a, np.zeros((0, 4)), 0.5).tolist() == [-1, -1, -1]
    assert greedy_iou_matching(np.zeros((0, 4)), b, 0.5).shape == (0,)


def test_fuse_score_scales_similarity():
    cost = np.array([[0.2, 0.6]])
    np.testing.assert_allclose(fuse_score(cost, np.array([0.5, 1.0])), [[0.6, 0.6]])
