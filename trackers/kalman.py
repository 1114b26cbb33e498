"""Constant-velocity Kalman filter on boxes in (x, y, aspect, height) form, batched.

The state is ``(x, y, a, h, vx, vy, va, vh)``: box centre in pixels, aspect ratio w/h, height
in pixels and their per-frame velocities; the measurement is ``(x, y, a, h)``. Noise scales with
the box height, as in SORT / ByteTrack (ByteTrack paper, sec. 3: Kalman motion model).

Shape letters: N tracks.
"""

from __future__ import annotations

import numpy as np

_STATE_DIM = 8
_MEAS_DIM = 4


def boxes_xyxy_to_xyah(boxes_xyxy: np.ndarray) -> np.ndarray:
    """(N, 4) corner boxes to (N, 4) ``(centre x, centre y, w / h, h)``."""
    boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
    width = boxes[:, 2] - boxes[:, 0]
    height = boxes[:, 3] - boxes[:, 1]
    centre_x = boxes[:, 0] + width / 2
    centre_y = boxes[:, 1] + height / 2
    return np.stack([centre_x, centre_y, width / height, height], axis=1)


def xyah_to_boxes_xyxy(xyah: np.ndarray) -> np.ndarray:
    """(N, 4) ``(centre x, centre y, w / h, h)`` to (N, 4) corner boxes."""
    xyah = np.asarray(xyah, dtype=np.float64).reshape(-1, 4)
    height = xyah[:, 3]
    width = xyah[:, 2] * height
    return np.stack(
        [
            xyah[:, 0] - width / 2,
            xyah[:, 1] - height / 2,
            xyah[:, 0] + width / 2,
            xyah[:, 1] + height / 2,
        ],
        axis=1,
    )


class KalmanFilterXYAH:
    """Kalman filter for boxes, each call handling N tracks at once.

    Args:
        std_weight_position: Position noise as a fraction of the box height.
        std_weight_velocity: Velocity noise as a fraction of the box height.
    """

    def __init__(
        self, std_weight_position: float = 1.0 / 20, std_weight_velocity: float = 1.0 / 160
    ):
        self._std_weight_position = std_weight_position
        self._std_weight_velocity = std_weight_velocity
        # x_{t+1} = x_t + v_t (dt = one frame)
        self._motion_mat = np.eye(_STATE_DIM)
        self._motion_mat[:_MEAS_DIM, _MEAS_DIM:] = np.eye(_MEAS_DIM)

    def _stds(self, heights: np.ndarray, pos_scale: float, vel_scale: float, aspect_stds: tuple):
        """(N, 8) standard deviations: height-proportional except for the aspect terms."""
        pos = self._std_weight_position * pos_scale * heights
        vel = self._std_weight_velocity * vel_scale * heights
        aspect_pos = np.full_like(heights, aspect_stds[0])
        aspect_vel = np.full_like(heights, aspect_stds[1])
        return np.stack([pos, pos, aspect_pos, pos, vel, vel, aspect_vel, vel], axis=1)

    def initiate(self, measurements_xyah: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start tracks at measured boxes with zero velocity.

        Args:
            measurements_xyah: (N, 4) boxes in xyah form.

        Returns:
            (N, 8) means and (N, 8, 8) covariances.
        """
        meas = np.asarray(measurements_xyah, dtype=np.float64).reshape(-1, _MEAS_DIM)
        mean = np.concatenate([meas, np.zeros_like(meas)], axis=1)
        std = self._stds(meas[:, 3], 2.0, 10.0, (1e-2, 1e-5))
        covariance = np.zeros((meas.shape[0], _STATE_DIM, _STATE_DIM))
        idx = np.arange(_STATE_DIM)
        covariance[:, idx, idx] = np.square(std)
        return mean, covariance

    def predict(self, mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance N states by one frame.

        Args:
            mean: (N, 8) state means.
            covariance: (N, 8, 8) state covariances.

        Returns:
            Predicted (N, 8) means and (N, 8, 8) covariances.
        """
        std = self._stds(mean[:, 3], 1.0, 1.0, (1e-2, 1e-5))
        motion_cov = np.zeros_like(covariance)
        idx = np.arange(_STATE_DIM)
        motion_cov[:, idx, idx] = np.square(std)
        mean = mean @ self._motion_mat.T
        covariance = self._motion_mat @ covariance @ self._motion_mat.T + motion_cov
        return mean, covariance

    def update(
        self, mean: np.ndarray, covariance: np.ndarray, measurements_xyah: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Correct N states with their matched measurements.

        Args:
            mean: (N, 8) predicted means.
            covariance: (N, 8, 8) predicted covariances.
            measurements_xyah: (N, 4) matched boxes in xyah form.

        Returns:
            Corrected (N, 8) means and (N, 8, 8) covariances.
        """
        meas = np.asarray(measurements_xyah, dtype=np.float64).reshape(-1, _MEAS_DIM)
        std = self._stds(mean[:, 3], 1.0, 0.0, (1e-1, 0.0))[:, :_MEAS_DIM]
        idx = np.arange(_MEAS_DIM)
        innovation_cov = covariance[:, :_MEAS_DIM, :_MEAS_DIM].copy()
        innovation_cov[:, idx, idx] += np.square(std)
        # Gain K = P H^T S^-1; with H = [I 0] and S symmetric, K^T = S^-1 (H P).
        gain_t = np.linalg.solve(innovation_cov, covariance[:, :_MEAS_DIM, :])
        gain = np.swapaxes(gain_t, 1, 2)
        innovation = meas - mean[:, :_MEAS_DIM]
        new_mean = mean + np.einsum("nij,nj->ni", gain, innovation)
        new_covariance = covariance - gain @ innovation_cov @ gain_t
        return new_mean, new_covariance
