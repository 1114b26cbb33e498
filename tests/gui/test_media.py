"""The viewer's view of an input agrees with the pipeline's."""

from __future__ import annotations

import cv2
import numpy as np

from posetool.gui import media
from posetool.io.inputs import IMAGE_FOLDER_FPS
from posetool.run.pipeline_config import PipelineConfig


def test_image_folder_gets_the_pipelines_frame_rate(tmp_path) -> None:
    """Poses the pipeline timed at its image-folder rate line up with the viewer's frames
    (the viewer assumed 25 fps where the pipeline assumed 30)."""
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i:06d}.jpg"), np.full((32, 48, 3), 40 * i, np.uint8))
    meta = media.probe_video(tmp_path)
    assert meta.frame_count == 3
    assert meta.fps == PipelineConfig().image_fps == IMAGE_FOLDER_FPS


def test_a_folder_of_photos_is_refused_with_the_reason(tmp_path) -> None:
    """Photos of several sizes are not one video (the pipeline poses each alone, one poses
    file each): the viewer says so, naming the folder, instead of playing them as frames of
    one size; a video's frames with one odd image still open as a video."""
    import pytest

    from posetool.io.video_io import VideoOpenError

    photos = tmp_path / "photos"
    photos.mkdir()
    for i, (h, w) in enumerate([(32, 48), (48, 32), (40, 40)]):
        cv2.imwrite(str(photos / f"p{i}.jpg"), np.full((h, w, 3), 60, np.uint8))
    with pytest.raises(VideoOpenError, match="photos of different sizes") as info:
        media.refuse_photo_folder(photos)
    assert info.value.path == photos
    media.refuse_photo_folder(photos / "p0.jpg")  # a photo of it opens
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        cv2.imwrite(str(frames / f"{i:06d}.jpg"), np.full((32, 48, 3), 60, np.uint8))
    cv2.imwrite(str(frames / "000003.jpg"), np.full((48, 32, 3), 60, np.uint8))
    media.refuse_photo_folder(frames)
    assert media.probe_video(frames).frame_count == 4


def test_photos_of_one_size_open_but_are_not_posed_as_one_video(shared_data, tmp_path) -> None:
    """Same-size photos play as one video's frames (nothing lost by looking), but the
    viewer's pipeline run refuses them: posed as one video they would lose most persons."""
    import pytest

    from posetool.io.video_io import VideoOpenError
    from tests.posetool.frames import same_size_photos

    same = same_size_photos(shared_data, tmp_path / "same_size", 6, (320, 240))
    media.refuse_photo_folder(same)
    with pytest.raises(VideoOpenError, match="photos of one size"):
        media.refuse_photo_folder(same, to_pose=True)
