"""A short real video made here: drawn people walking across a plain background.

Written with ``cv2.VideoWriter`` (MJPG in AVI, which every OpenCV build writes), so the
pipeline's video path (decode, detect, track, pose, write) is tested without ../shared/data.
The figures are simple enough to draw and person-like enough for YOLO11n-pose to find the
red one in every frame (scores about 0.2-0.7 here) and the blue one now and then.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

__all__ = ["FIGURES_FPS", "FIGURES_FRAMES", "draw_figure", "figures_frame", "write_figures_video"]

FIGURES_FRAMES = 10
FIGURES_FPS = 10.0
SIZE_WH = (320, 240)
SKIN, TROUSERS = (150, 180, 220), (60, 60, 60)


def draw_figure(
    image: np.ndarray,
    centre_x: float,
    top_y: float,
    height_px: float,
    shirt_bgr: tuple[int, int, int],
) -> None:
    """Draw a standing person (head, torso, arms, legs) ``height_px`` tall, in place."""
    s = height_px / 8

    def pt(dx: float, dy: float) -> tuple[int, int]:
        return int(centre_x + dx * s), int(top_y + dy * s)

    cv2.circle(image, pt(0, 1), int(s * 0.9), SKIN, -1)
    neck, hip = pt(0, 2), pt(0, 4.5)
    cv2.line(image, neck, hip, shirt_bgr, int(s * 1.4))
    for side in (-1, 1):
        elbow, knee = pt(side * 1.2, 3.3), pt(side * 0.7, 6.2)
        cv2.line(image, neck, elbow, shirt_bgr, int(s * 0.5))
        cv2.line(image, elbow, pt(side * 1.5, 4.6), SKIN, int(s * 0.4))
        cv2.line(image, hip, knee, TROUSERS, int(s * 0.6))
        cv2.line(image, knee, pt(side * 0.8, 8), TROUSERS, int(s * 0.5))


def figures_frame(index: int) -> np.ndarray:
    """Frame ``index``: a red-shirted person walking right, a blue one walking left."""
    image = np.full((SIZE_WH[1], SIZE_WH[0], 3), (200, 210, 190), np.uint8)
    draw_figure(image, 80 + 4 * index, 30, 180, (40, 40, 200))
    draw_figure(image, 240 - 4 * index, 40, 170, (200, 80, 40))
    return image


def write_figures_video(path: Path, frames: int = FIGURES_FRAMES) -> Path:
    """Write the video to ``path`` (.avi) and return it."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FIGURES_FPS, SIZE_WH)
    if not writer.isOpened():
        raise RuntimeError(f"cv2.VideoWriter cannot write {path}")
    try:
        for i in range(frames):
            writer.write(figures_frame(i))
    finally:
        writer.release()
    return path
