"""The viewer's view of an input agrees with the pipeline's."""

from __future__ import annotations

import cv2
import numpy as np

from posetool.gui import media
from posetool.inputs import IMAGE_FOLDER_FPS
from posetool.pipeline_config import PipelineConfig


def test_image_folder_gets_the_pipelines_frame_rate(tmp_path) -> None:
    """Poses the pipeline timed at its image-folder rate line up with the viewer's frames
    (the viewer assumed 25 fps where the pipeline assumed 30)."""
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:06d}.jpg"), np.full((32, 48, 3), 40 * i, np.uint8))
    meta = media.probe_video(tmp_path)
    assert meta.frame_count == 3
    assert meta.fps == PipelineConfig().image_fps == IMAGE_FOLDER_FPS
