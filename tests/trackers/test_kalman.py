"""The batched constant-velocity Kalman filter."""

from __future__ import annotations

import numpy as np

from trackers.kalman import KalmanFilterXYAH, boxes_xyxy_to_xyah, xyah_to_boxes_xyxy


def test_box_conversion_round_trip():
    boxes = np.array([[10.0, 20.0, 50.0, 120.0], [0.0, 0.0, 3.0, 4.0]])
    xyah = boxes_xyxy_to_xyah(boxes)
    np.testing.assert_allclose(xyah[0], [30.0, 70.0, 0.4, 100.0])
    np.testing.assert_allclose(xyah_to_boxes_xyxy(xyah), boxes)


def test_learns_constant_velocity():
    kalman = KalmanFilterXYAH()
    velocity = np.array([6.0, -2.0, 0.0, 0.5])
    measurement = np.array([[100.0, 200.0, 0.4, 100.0]])
    mean, cov = kalman.initiate(measurement)
    for _ in range(40):
        measurement = measurement + velocity
        mean, cov = kalman.predict(mean, cov)
        mean, cov = kalman.update(mean, cov, measurement)
    np.testing.assert_allclose(mean[0, 4:], velocity, atol=0.05)
    predicted, _ = kalman.predict(mean, cov)
    np.testing.assert_allclose(predicted[0, :4], measurement[0] + velocity, atol=0.1)
    assert np.allclose(cov, np.swapaxes(cov, 1, 2))  # stays symmetric


def test_batch_equals_one_by_one():
    kalman = KalmanFilterXYAH()
    rng = np.random.default_rng(0)
    first = np.column_stack(
        [rng.uniform(0, 500, (5, 2)), rng.uniform(0.3, 0.6, 5), rng.uniform(50, 150, 5)]
    )
    second = first + rng.normal(0, 3, first.shape)
    mean, cov = kalman.update(*kalman.predict(*kalman.initiate(first)), second)
    for i in range(5):
        one_mean, one_cov = kalman.update(
            *kalman.predict(*kalman.initiate(first[i : i + 1])), second[i : i + 1]
        )
        np.testing.assert_allclose(one_mean[0], mean[i])
        np.testing.assert_allclose(one_cov[0], cov[i])
