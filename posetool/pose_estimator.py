"""Streaming top-down pose estimation with DiffPose over tracked persons.

Per track and frame t, the clip is the 2δ+1-frame window t-δ..t+δ of that track; where the
track has no box in a neighbour frame (track ends, missed detections, video ends) the key frame
is repeated, as the paper does at sequence ends. Two crop modes:

- ``key_box`` (the paper, §4.1): every frame of the
  window is cropped with the key frame's box affine, so each person-frame costs 2δ+1 backbone
  passes.
- ``own_box``: each frame is cropped once with its own track box and its backbone features are
  cached and reused by every window that contains it: one backbone pass per person-frame. The
  accuracy cost against ``key_box`` is measured by bench/bench_pipeline.py.

Memory stays bounded: a sliding buffer of the last 2δ+1 frames (their track boxes plus the
frame images in ``key_box`` mode or the per-track features in ``own_box`` mode). Without an
executor, the record of frame t is emitted once frame t+δ has been pushed;
:meth:`PoseEstimator.flush` emits the rest.

With an ``executor`` (a thread pool shared with other work, such as detection), the model work
runs in its threads: each frame's backbone features and each frame's record are tasks, so
several frames are in the model at once while the caller goes on. A record task keeps its
window's frames (a snapshot: the buffer moves on), so up to ``max_pending`` more windows are
held; records come out in frame order once finished, and :meth:`PoseEstimator.push` waits
for the oldest when ``max_pending`` are in flight. Tasks are queued first in, first out, and a
record task only waits on feature tasks queued before it, so a pool of any size cannot
deadlock.

Test-time rules (docs/POSETRACK.md): tracked boxes scoring below ``min_box_score`` are dropped,
boxes are enlarged by 25 %, keypoint score = heatmap peak × box score, keypoints are mapped back
with the inverse crop affine.

Shape letters: B person-windows, T = 2δ+1 frames, K keypoints, C channels, h,w feature map,
H,W crop.
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from diffpose.data.transforms import (
    apply_affine,
    box_to_crop,
    crop_affine,
    invert_affine,
    normalize_clip,
    warp_frames,
)
from diffpose.keypoints import NUM_KEYPOINTS, PLACEHOLDER_SLOTS
from diffpose.precision import PRECISIONS
from posetool.detector_priors import detections_prior
from posetool.records import FrameRecord
from posetool.timed_tasks import BusySeconds, submit_timed
from posetool.tracked_frames import TrackedFrame

__all__ = [
    "CROP_MODES", "PoseConfig", "PoseEstimator", "default_checkpoint_path",
    "head_boxes_from_keypoints", "load_pose_model",
]  # fmt: skip

logger = logging.getLogger(__name__)

CROP_MODES = ("own_box", "key_box")
#: Shipped checkpoints by preset: "refine" refines the detector's keypoints (the default,
#: resources/MODEL_CARD.md); "paper" is the paper's pure-noise DiffPose on the same data.
PRESET_CHECKPOINTS = {
    "refine": "diffpose_cpu.safetensors", "paper": "diffpose_cpu_paper.safetensors",
}  # fmt: skip
BOX_ENLARGE = 1.25  # docs/POSETRACK.md: boxes enlarged by 25 %


def default_checkpoint_path(preset: str = "refine") -> Path:
    """The shipped checkpoint of ``preset`` (:data:`PRESET_CHECKPOINTS`): in ``resources/``
    beside the ``posetool`` package (a checkout or an editable install), else where a wheel
    install puts it (``<prefix>/share/posetool/resources``); the checkout path when neither
    has it."""
    import sys

    import posetool

    name = PRESET_CHECKPOINTS[preset]
    checkout = Path(posetool.__file__).resolve().parents[1] / "resources" / name
    installed = Path(sys.prefix) / "share" / "posetool" / "resources" / name
    return installed if not checkout.is_file() and installed.is_file() else checkout


@dataclass(frozen=True)
class PoseConfig:
    """DiffPose inference settings.

    Attributes:
        steps: DDIM sampling steps. Default 1: the shipped model is most accurate with one
            step (resources/MODEL_CARD.md, steps x N grid; the paper uses 4).
        ensemble: Noise draws averaged per person (paper: 10; 5 keeps a spread signal).
        crop_mode: ``own_box`` (per-frame features reused across windows) or ``key_box``
            (the paper: the whole window cropped with the key frame's box).
        device: Torch device string.
        preset: "refine" (the default: DiffPose refining the detector's own keypoints) or
            "paper" (the paper's DiffPose from pure noise); picks the shipped checkpoint.
        checkpoint: DiffPose checkpoint file; "" uses the preset's shipped one.
        batch_size: Most person-windows (clips) per model call.
        min_box_score: Tracked boxes scoring below this are dropped (PoseTrack test rule).
        seed: Seed of the N noise draws, drawn once per estimator and shared by every person
            and frame (results are reproducible).
        flip_test: Also run mirrored clips and average (doubles the cost).
        precision: "auto" (bfloat16 where the device computes it natively, else float32),
            "fp32" or "bf16" (diffpose.precision); the accuracy cost is in MODEL_CARD.md.
    """

    steps: int = 1
    ensemble: int = 5
    crop_mode: Literal["own_box", "key_box"] = "own_box"
    preset: Literal["refine", "paper"] = "refine"
    device: str = "cpu"
    checkpoint: str = ""
    batch_size: int = 32
    min_box_score: float = 0.2
    seed: int = 0
    flip_test: bool = False
    precision: Literal["auto", "fp32", "bf16"] = "auto"

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.ensemble < 1:
            raise ValueError(f"ensemble must be >= 1, got {self.ensemble}")
        if self.preset not in PRESET_CHECKPOINTS:
            raise ValueError(f"preset must be one of {tuple(PRESET_CHECKPOINTS)}, "
                             f"got {self.preset!r}")  # fmt: skip
        if self.crop_mode not in CROP_MODES:
            raise ValueError(f"crop_mode must be one of {CROP_MODES}, got {self.crop_mode!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not 0.0 <= self.min_box_score <= 1.0:
            raise ValueError(f"min_box_score must be in [0, 1], got {self.min_box_score}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.flip_test and self.crop_mode != "key_box":
            raise ValueError(
                "flip_test needs crop_mode 'key_box' (own_box caches unflipped features)"
            )

    def checkpoint_path(self) -> Path:
        return Path(self.checkpoint) if self.checkpoint else default_checkpoint_path(self.preset)


@dataclass
class _BufferedFrame:
    """One frame in the sliding window: its kept tracks and what the windows need of it."""

    frame_index: int
    timestamp_s: float
    track_ids: np.ndarray  # (N,)
    boxes_xyxy: np.ndarray  # (N, 4)
    scores: np.ndarray  # (N,)
    affines: np.ndarray  # (N, 2, 3) image → crop, own box
    prior_xy: np.ndarray  # (N, K, 2) the detector's pose, image px, PoseTrack slots
    prior_scores: np.ndarray  # (N, K)
    frame_bgr: np.ndarray | None = None  # key_box mode only
    features: Future | None = None  # own_box: of a dict track id → (C, h, w) tensor

    def row_of(self, track_id: int) -> int | None:
        hits = np.flatnonzero(self.track_ids == track_id)
        return int(hits[0]) if len(hits) else None


class PoseEstimator:
    """Streams frames with their tracks in, emits one :class:`FrameRecord` per frame.

    Args:
        model: A loaded :class:`diffpose.DiffPose` (eval mode).
        config: Inference settings.
        executor: Runs the model work (backbone features, records) in its threads; None runs
            it in the caller's thread when a frame is pushed.
        max_pending: With an executor, most records in flight before :meth:`push` waits for
            the oldest (bounds the memory the tasks hold; 2 per executor thread is plenty).

    Use :meth:`push` for every frame in order, then :meth:`flush`.
    """

    def __init__(self, model, config: PoseConfig | None = None, executor: Executor | None = None,
                 max_pending: int = 4) -> None:  # fmt: skip
        import torch

        self.config = config or PoseConfig()
        self.model = model
        self.delta = (int(model.num_frames) - 1) // 2
        self.window = 2 * self.delta + 1
        self.crop_hw = tuple(int(v) for v in model.image_size)
        self._executor = executor
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        self._max_pending = max_pending
        self._buffer: deque[_BufferedFrame] = deque()
        self._next_emit = 0  # buffer position of the next frame to submit
        self._ready: list[tuple[list[_BufferedFrame], int]] = []  # records to submit
        self._pending: deque[Future] = deque()  # records submitted, in frame order
        # The N starting draws x_T, drawn once and shared by every person and frame: drawing
        # them per clip cost time per person (README, Performance), and with fixed draws a person's
        # result depends on its images only (not on who else is in the batch). Kept in the
        # model's dtype: no per-call cast of the B·N starting maps.
        shape = (self.config.ensemble, int(model.num_keypoints), *model.heatmap_size)
        generator = torch.Generator(device="cpu").manual_seed(self.config.seed)
        self._noise = torch.randn(shape, generator=generator).to(model.inference_dtype)
        self._busy = BusySeconds()
        #: Largest number of frames the buffer ever held (≤ 2δ+1; record tasks in flight
        #: may hold up to ``max_pending`` windows more).
        self.max_buffered = 0
        #: Backbone passes and clips submitted so far (for benchmarks).
        self.backbone_crops = 0
        self.clips_predicted = 0

    @classmethod
    def from_checkpoint(cls, config: PoseConfig | None = None) -> PoseEstimator:
        """Load the checkpoint ``config`` names (default: resources/) on its device."""
        return cls(load_pose_model(config or PoseConfig()), config)

    @property
    def busy_seconds(self) -> float:
        """Seconds the model work took, summed over threads (with an executor, more than the
        wall time it spans)."""
        return self._busy.total

    @property
    def buffered_frames(self) -> int:
        """Frames held now."""
        return len(self._buffer)

    # ----- streaming ---------------------------------------------------------------------
    def push(self, frame: TrackedFrame) -> list[FrameRecord]:
        """Add a frame and its tracks; return the records that became complete (frame t-δ,
        or, with an executor, whichever earlier frames are finished).

        ``frame.frame_bgr`` may be None for a frame that could not be decoded (it must then
        carry no tracks). A model that refines the detector's pose uses the frame's
        detector keypoints.
        """
        frame_bgr = frame.frame_bgr
        ids = np.asarray(frame.track_ids, np.int64).reshape(-1)
        boxes = np.asarray(frame.boxes_xyxy, np.float32).reshape(-1, 4)
        sc = np.asarray(frame.scores, np.float32).reshape(-1)
        prior_xy, prior_scores = detections_prior(frame.keypoints_xy, frame.keypoint_scores)
        keep = sc >= self.config.min_box_score
        if frame_bgr is None:
            keep[:] = False
        ids, boxes, sc = ids[keep], boxes[keep], sc[keep]
        entry = _BufferedFrame(frame.frame_index, frame.timestamp_s, ids, boxes, sc,
                               self._affines(boxes), prior_xy[keep], prior_scores[keep])  # fmt: skip
        if self.config.crop_mode == "key_box":
            entry.frame_bgr = frame_bgr if len(ids) else None
        elif len(ids):
            entry.features = self._submit(self._track_features, frame_bgr, entry.affines, ids)
            self.backbone_crops += len(ids)
        # With an executor, the records that the previous frame completed are queued after
        # this frame's features: a record task then seldom waits on the feature task it needs
        # while that still runs, and two feature tasks can run at once.
        self._submit_ready()
        self._buffer.append(entry)
        self.max_buffered = max(self.max_buffered, len(self._buffer))
        # frame t is ready once t+δ is in: buffer position of t = len - 1 - δ
        while self._next_emit <= len(self._buffer) - 1 - self.delta:
            self._make_ready(self._next_emit)
            self._next_emit += 1
            self._trim()
        if self._executor is None:
            self._submit_ready()
        return self._collect(wait_all=False)

    def flush(self) -> list[FrameRecord]:
        """Emit the frames still waiting for their future neighbours (end of the video)."""
        while self._next_emit < len(self._buffer):
            self._make_ready(self._next_emit)
            self._next_emit += 1
        self._submit_ready()
        self._buffer.clear()
        self._next_emit = 0
        return self._collect(wait_all=True)

    def _trim(self) -> None:
        # keep δ frames of past context before the next frame to submit
        while self._next_emit > self.delta:
            self._buffer.popleft()
            self._next_emit -= 1

    def _make_ready(self, pos: int) -> None:
        """The record of buffer position ``pos`` can be computed: keep its window's entries (a
        snapshot: the buffer moves on while the task waits)."""
        lo, hi = max(0, pos - self.delta), min(len(self._buffer), pos + self.delta + 1)
        self._ready.append(([self._buffer[p] for p in range(lo, hi)], pos - lo))

    def _submit_ready(self) -> None:
        for entries, key in self._ready:
            n = len(entries[key].track_ids)
            self.clips_predicted += n
            if self.config.crop_mode == "key_box":
                self.backbone_crops += n * self.window
            self._pending.append(self._submit(self._record, entries, key))
        self._ready.clear()

    def _collect(self, wait_all: bool) -> list[FrameRecord]:
        """Finished records in frame order; waits for the oldest while too many are in
        flight (or for all with ``wait_all``)."""
        out = []
        while self._pending and (wait_all or self._pending[0].done()
                                 or len(self._pending) > self._max_pending):  # fmt: skip
            out.append(self._pending.popleft().result())
        return out

    def _submit(self, fn, *args) -> Future:
        return submit_timed(self._executor, self._busy, fn, *args)

    # ----- crops and model calls (thread-safe: no shared state is written) ----------------
    def _affines(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        out = np.zeros((len(boxes_xyxy), 2, 3), np.float64)
        for i, box in enumerate(boxes_xyxy):
            out[i] = crop_affine(box_to_crop(box, self.crop_hw, BOX_ENLARGE), self.crop_hw)
        return out

    def _warp(self, frame_bgr: np.ndarray, affines: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB crops of one frame, one per affine."""
        return np.concatenate([warp_frames([frame_bgr], a, self.crop_hw) for a in affines])

    def _crops(self, frame_bgr: np.ndarray, affines: np.ndarray) -> np.ndarray:
        """(N, 3, H, W) normalised crops of one frame, one per affine."""
        return normalize_clip(self._warp(frame_bgr, affines))

    def _track_features(self, frame_bgr: np.ndarray, affines: np.ndarray,
                        track_ids: np.ndarray) -> dict:  # fmt: skip
        """own_box: track id → (C, h, w) backbone features of its crop in this frame."""
        feats = self._features(self._warp(frame_bgr, affines))
        return {int(t): feats[i] for i, t in enumerate(track_ids)}

    def _features(self, crops_rgb: np.ndarray):
        """Backbone features of (M, H, W, 3) uint8 RGB crops in batches → (M, C, h, w)."""
        import torch

        device = self.config.device
        parts = []
        step = self.config.batch_size * self.window
        with torch.no_grad():
            for i in range(0, len(crops_rgb), step):
                x = torch.from_numpy(crops_rgb[i : i + step]).to(device)
                parts.append(self.model.frame_features_rgb(x))
        return torch.cat(parts)

    def _window(self, entries: list[_BufferedFrame], key: int,
                track_id: int) -> list[tuple[_BufferedFrame, int]]:  # fmt: skip
        """(entry, row) of each window frame around ``entries[key]``; the key frame where the
        track is absent (or the window runs past the entries, at the video's ends)."""
        key_entry = entries[key]
        key_pair = (key_entry, key_entry.row_of(track_id))
        out = []
        for offset in range(-self.delta, self.delta + 1):
            p = key + offset
            row = entries[p].row_of(track_id) if 0 <= p < len(entries) else None
            out.append((entries[p], row) if row is not None else key_pair)
        return out

    def _record(self, entries: list[_BufferedFrame], key: int) -> FrameRecord:
        entry = entries[key]
        n = len(entry.track_ids)
        kp = np.zeros((n, NUM_KEYPOINTS, 2), np.float32)
        kp_scores = np.zeros((n, NUM_KEYPOINTS), np.float32)
        spread = np.full((n, NUM_KEYPOINTS), np.nan, np.float32)
        step = self.config.batch_size
        for start in range(0, n, step):
            rows = range(start, min(n, start + step))
            result = self._predict(entries, key, rows)
            for j, row in enumerate(rows):
                inv = invert_affine(entry.affines[row])
                kp[row] = apply_affine(result.keypoints_xy[j], inv)
                scale = np.sqrt(abs(np.linalg.det(inv[:, :2])))  # crop px → image px
                spread[row] = result.spread[j] * scale
                kp_scores[row] = result.scores[j] * entry.scores[row]
        visible = np.ones((n, NUM_KEYPOINTS), bool)
        visible[:, list(PLACEHOLDER_SLOTS)] = False  # ears: PoseTrack placeholders
        return FrameRecord(
            frame_index=entry.frame_index, timestamp_s=entry.timestamp_s,
            boxes_xyxy=entry.boxes_xyxy, box_scores=entry.scores, track_ids=entry.track_ids,
            keypoints_xy=kp, keypoint_scores=kp_scores, keypoint_spread_px=spread,
            keypoint_visible=visible, head_boxes_xyxy=head_boxes_from_keypoints(kp),
        )  # fmt: skip

    def _predict(self, entries: list[_BufferedFrame], key: int, rows: range):
        import torch

        cfg = self.config
        entry = entries[key]
        windows = [self._window(entries, key, int(entry.track_ids[r])) for r in rows]
        prior = self._prior(entry, rows)
        if cfg.crop_mode == "own_box":
            feats = torch.stack([
                torch.stack([e.features.result()[int(e.track_ids[r])] for e, r in win])
                for win in windows
            ])  # fmt: skip
            return self.model.predict_from_features(
                feats, cfg.steps, cfg.ensemble, None, noise=self._noise, prior=prior
            )
        crops = np.stack(
            [
                np.concatenate([self._crops(e.frame_bgr, entry.affines[r][None]) for e, _ in win])
                for r, win in zip(rows, windows, strict=True)
            ]
        )  # fmt: skip  (B, T, 3, H, W), every frame with the key frame's affine
        clips = torch.from_numpy(crops).to(cfg.device)
        return self.model.predict(clips, cfg.steps, cfg.ensemble, None, cfg.flip_test,
                                  noise=self._noise, prior=prior)  # fmt: skip

    def _prior(self, entry: _BufferedFrame, rows: range):
        """(B, K, h, w) heatmaps of the detector's pose in the key frame's crops, or None for
        a model that does not refine it."""
        if not self.model.uses_prior:
            return None
        import torch

        from diffpose.heatmaps import prior_heatmaps

        stride = float(self.model.stride)
        xy = np.stack([apply_affine(entry.prior_xy[r], entry.affines[r]) / stride for r in rows])
        scores = entry.prior_scores[list(rows)]
        return prior_heatmaps(torch.from_numpy(xy.astype(np.float32)),
                              torch.from_numpy(scores), self.model.heatmap_size,
                              self.model.sigma).to(self.config.device)  # fmt: skip


def head_boxes_from_keypoints(keypoints_xy: np.ndarray, pad: float = 1.2) -> np.ndarray:
    """(N, 4) square head boxes around nose, head_bottom and head_top, ``pad`` × their extent.

    Predictions carry no head box, but PoseTrack's PCKh needs one on the ground-truth side;
    estimating it makes an output usable as (pseudo) ground truth after review.
    """
    pts = np.asarray(keypoints_xy, np.float32)[:, [0, 1, 2]]  # nose, head_bottom, head_top
    lo, hi = pts.min(1), pts.max(1)
    centre = (lo + hi) / 2
    half = np.maximum((hi - lo).max(1), 2.0)[:, None] * pad / 2
    return np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)


def load_pose_model(config: PoseConfig):
    """The DiffPose model of ``config.checkpoint`` on ``config.device``, in eval mode.

    Raises:
        FileNotFoundError: The checkpoint does not exist.
    """
    from diffpose import load_checkpoint
    from diffpose.precision import resolve_precision

    path = config.checkpoint_path()
    if not path.is_file():
        raise FileNotFoundError(f"DiffPose checkpoint '{path}' not found (pass --checkpoint)")
    model = load_checkpoint(path, map_location=config.device)
    model.set_inference_dtype(resolve_precision(config.precision, config.device))
    logger.info("DiffPose %s: T=%d, crop %s, %s", path.name, model.num_frames, model.image_size,
                model.inference_dtype)  # fmt: skip
    return model.eval()
