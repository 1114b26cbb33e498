"""Fixtures of the viewer tests: the QApplication (after removing cv2's Qt variables) and a
small synthetic video with a PoseTrack file beside it, made in tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posetool.io.posetrack_io import write_posetrack
from posetool.records import FrameRecord, VideoMeta, VideoResult

TINY_FRAMES = 12
TINY_SIZE = (96, 64)  # width, height


@pytest.fixture(scope="session")
def qapp_cls():
    pytest.importorskip("PySide6")
    from posetool.gui.app import create_application

    create_application()  # removes cv2's Qt variables before pytest-qt's QApplication exists
    from PySide6.QtWidgets import QApplication

    return QApplication


def tiny_poses(video: Path) -> VideoResult:
    """Track 1 in every frame, track 2 in the first half; joints spread over the frame."""
    frames = []
    for i in range(TINY_FRAMES):
        ids = [1, 2] if i < TINY_FRAMES // 2 else [1]
        n = len(ids)
        x0 = np.array([5.0 + 45 * (t - 1) for t in ids], np.float32).reshape(n, 1)
        kp = np.zeros((n, 17, 2), np.float32)
        kp[..., 0] = x0 + 2 * np.arange(17)
        kp[..., 1] = 4 + 3 * np.arange(17)
        frames.append(
            FrameRecord(
                frame_index=i,
                timestamp_s=i / 10,
                boxes_xyxy=np.concatenate([x0, x0 * 0 + 2, x0 + 40, x0 * 0 + 60], 1),
                box_scores=np.full(n, 0.9),
                track_ids=ids,
                keypoints_xy=kp,
                keypoint_scores=np.full((n, 17), 0.8),
                keypoint_spread_px=np.full((n, 17), 1.0),
            )
        )
    meta = VideoMeta(
        path=video, fps=10, frame_count=TINY_FRAMES, width=TINY_SIZE[0], height=TINY_SIZE[1]
    )
    return VideoResult(meta, tuple(frames))


@pytest.fixture
def tiny_video(tmp_path) -> tuple[Path, Path]:
    """(video, poses): a 12-frame 96x64 MJPG video and ``clip.json`` beside it."""
    import cv2

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, TINY_SIZE)
    for i in range(TINY_FRAMES):
        writer.write(np.full((TINY_SIZE[1], TINY_SIZE[0], 3), 20 * i % 255, np.uint8))
    writer.release()
    poses = tmp_path / "clip.json"
    write_posetrack(tiny_poses(video), poses)
    return video, poses


@pytest.fixture
def make_window(qtbot, tmp_path):
    """Build a shown MainWindow with settings in tmp_path; ``make_window.answers`` queues the
    answers to the unsaved-changes question (default "discard")."""
    from PySide6.QtCore import QSettings

    from posetool.gui.main_window import MainWindow

    answers = []

    def make(**kwargs):
        settings = QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)
        kwargs.setdefault("confirm_unsaved", lambda _w: answers.pop(0) if answers else "discard")
        window = MainWindow(settings=settings, **kwargs)
        qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        qtbot.waitExposed(window)
        return window

    make.answers = answers
    return make
