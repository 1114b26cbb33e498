"""Point-in-polygon for PoseTrack ignore regions.

poseval uses shapely's ``Polygon.contains``: strictly inside (points on the boundary are not
contained), even-odd rule. Shape letters: M points, P polygon vertices.
"""

from __future__ import annotations

import numpy as np


def points_in_polygon(points_xy: np.ndarray, polygon_xy: np.ndarray) -> np.ndarray:
    """(M,) bool: which points lie strictly inside the polygon.

    Args:
        points_xy: (M, 2) points.
        polygon_xy: (P, 2) vertices, closed implicitly. Fewer than 3 vertices contain nothing.
    """
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    poly = np.asarray(polygon_xy, dtype=np.float64).reshape(-1, 2)
    if len(poly) < 3 or len(pts) == 0:
        return np.zeros(len(pts), dtype=bool)
    x, y = pts[:, 0:1], pts[:, 1:2]  # (M, 1)
    x1, y1 = poly[:, 0][None], poly[:, 1][None]  # (1, P)
    x2, y2 = np.roll(poly[:, 0], -1)[None], np.roll(poly[:, 1], -1)[None]
    # Even-odd ray casting to +x.
    straddles = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    inside = (np.count_nonzero(straddles & (x < x_cross), axis=1) % 2) == 1
    # Boundary: collinear with an edge and within its bounding box.
    cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
    within = (
        (np.minimum(x1, x2) <= x)
        & (x <= np.maximum(x1, x2))
        & (np.minimum(y1, y2) <= y)
        & (y <= np.maximum(y1, y2))
    )
    on_edge = np.any((np.abs(cross) <= 1e-9) & within, axis=1)
    return inside & ~on_edge


def points_in_any_polygon(points_xy: np.ndarray, polygons: tuple[np.ndarray, ...]) -> np.ndarray:
    """(M,) bool: which points lie strictly inside at least one polygon."""
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    hit = np.zeros(len(pts), dtype=bool)
    for poly in polygons:
        hit |= points_in_polygon(pts, poly)
    return hit
