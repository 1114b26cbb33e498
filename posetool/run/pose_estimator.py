"""Streaming top-down pose estimation with DiffPose over tracked persons: the model calls and
their scheduling.

Per track and frame t, the clip is the 2δ+1-frame window t-δ..t+δ of that track
(:mod:`posetool.run.pose_window` decides when a window is complete and which frame stands in where
the track is absent). Two crop modes (:mod:`posetool.run.pose_crops` makes the crops):

- ``key_box`` (the paper, §4.1): every frame of the window is cropped with the key frame's box
  affine, so each person-frame costs 2δ+1 backbone passes.
- ``own_box``: each frame is cropped once with its own track box and its backbone features are
  computed once and reused by every window that contains it: one backbone pass per
  person-frame (its accuracy cost against ``key_box``: bench/bench_pipeline.py).

With an ``executor`` (a pool shared with detection), each frame's features and each frame's
record are tasks in its threads; records come out in frame order, and :meth:`PoseEstimator.push`
waits for the oldest when ``max_pending`` are in flight. Without one, the work runs when a
frame is pushed. Why the pool is shaped this way, and why it cannot deadlock:
docs/ARCHITECTURE.md ("Who owns each thread and pool").

Shape letters: B person-windows, T = 2δ+1 frames, N persons of a frame, K keypoints,
C channels, h,w feature map, H,W crop.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Executor, Future
from dataclasses import dataclass

import numpy as np

from diffpose.data.transforms import apply_affine
from diffpose.keypoints import NUM_KEYPOINTS, PLACEHOLDER_SLOTS
from posetool.records import FrameRecord
from posetool.run.crop_priors import (
    choose_prior,
    crop_pose_priors,
    crop_sees_more,
    prior_crop_settings,
    rule_prior_reruns,
)
from posetool.run.detector_priors import detections_prior, nearest_others
from posetool.run.duplicate_poses import distinct_pose_rows
from posetool.run.joint_scores import joint_scores
from posetool.run.pose_config import (
    CROP_MODES,
    PRESET_CHECKPOINTS,
    CheckpointNotFoundError,
    PoseConfig,
    default_checkpoint_path,
    load_pose_model,
)
from posetool.run.pose_crops import crop_affines, crop_to_image, normalized_crops, rgb_crops
from posetool.run.pose_window import PoseWindow, ReadyWindow
from posetool.run.timed_tasks import BusySeconds, submit_timed
from posetool.run.tracked_frames import TrackedFrame

# PoseConfig, the checkpoint lookup and load_pose_model live in posetool.run.pose_config; they are
# re-exported here for the modules that import them from this one.
__all__ = [
    "CROP_MODES",
    "PRESET_CHECKPOINTS",
    "CheckpointNotFoundError",
    "PoseConfig",
    "PoseEstimator",
    "default_checkpoint_path",
    "head_boxes_from_keypoints",
    "load_pose_model",
]


@dataclass
class _WindowFrame:
    """One frame as the window holds it: its kept tracks and what the records need of it."""

    frame_index: int
    timestamp_s: float
    track_ids: np.ndarray  # (N,)
    boxes_xyxy: np.ndarray  # (N, 4)
    scores: np.ndarray  # (N,)
    affines: np.ndarray  # (N, 2, 3) image → crop, own box
    prior_xy: np.ndarray  # (N, K, 2) the detector's pose, image px, PoseTrack slots
    prior_scores: np.ndarray  # (N, K)
    frame_bgr: np.ndarray | None = None  # key_box mode only
    features: Future | None = None  # own_box: of a _CropPass


@dataclass
class _CropPass:
    """own_box: one frame's backbone pass over its tracks' crops."""

    features: dict  # track id → (C, h, w) tensor
    # models with a crop prior (diffpose.crop_pose): (N, K, 2) image px, (N, K), row order
    prior_xy: np.ndarray | None = None
    prior_scores: np.ndarray | None = None


class PoseEstimator:
    """Streams frames with their tracks in, emits one :class:`FrameRecord` per frame.

    Args:
        model: A loaded :class:`diffpose.DiffPose` (eval mode).
        config: Inference settings.
        executor: Runs the model work (backbone features, records) in its threads; None runs
            it in the caller's thread when a frame is pushed.
        max_pending: With an executor, most records in flight before :meth:`push` waits for
            the oldest (bounds the memory the tasks hold; 2 per executor thread is plenty).
        detector_imgsz: the detector's base input size (``DetectorConfig.imgsz``): a
            crop-prior model takes the crop's pose only for persons the detector would see
            at fewer pixels at that size (posetool.run.crop_priors), the rule the refiner's
            training priors were made with, also when a larger frame is detected at a
            larger input (``DetectorConfig.max_imgsz``; its boxes and poses then come from
            that input; the rule at the base size won on the validation video set,
            resources/MODEL_CARD.md).

    Use :meth:`push` for every frame in order, then :meth:`flush`.
    """

    def __init__(
        self,
        model,
        config: PoseConfig | None = None,
        executor: Executor | None = None,
        max_pending: int = 4,
        detector_imgsz: int = 640,
    ) -> None:
        import torch

        self.config = config or PoseConfig()
        self.detector_imgsz = int(detector_imgsz)
        self.model = model
        self.delta = (int(model.num_frames) - 1) // 2
        self.window = 2 * self.delta + 1
        self.crop_hw = tuple(int(v) for v in model.image_size)
        self._executor = executor
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending}")
        self._max_pending = max_pending
        self._frames: PoseWindow[_WindowFrame] = PoseWindow(self.delta)
        self._ready: list[ReadyWindow[_WindowFrame]] = []  # records to submit
        self._pending: deque[Future] = deque()  # records submitted, in frame order
        # The N starting draws x_T, drawn once and shared by every person and frame: cheaper
        # than drawing them per clip (README, Performance), and a person's result then
        # depends on its images only (not on who else is in the batch). Kept in the model's
        # dtype: no per-call cast of the B·N starting maps.
        shape = (self.config.ensemble, int(model.num_keypoints), *model.heatmap_size)
        generator = torch.Generator(device="cpu").manual_seed(self.config.seed)
        self._noise = torch.randn(shape, generator=generator).to(model.inference_dtype)
        self._busy = BusySeconds()
        #: Backbone passes and clips submitted so far (for benchmarks).
        self.backbone_crops = 0
        self.clips_predicted = 0
        self._posed_track_ids = np.zeros(0, np.int64)  # track ids of the last frame emitted

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
        return self._frames.buffered_frames

    @property
    def max_buffered(self) -> int:
        """Largest number of frames the window ever held (≤ 2δ+1; record tasks in flight may
        hold up to ``max_pending`` windows more)."""
        return self._frames.max_buffered

    # ----- streaming ---------------------------------------------------------------------
    def push(self, frame: TrackedFrame) -> list[FrameRecord]:
        """Add a frame and its tracks; return the records that became complete (frame t-δ,
        or, with an executor, whichever earlier frames are finished).

        ``frame.frame_bgr`` may be None for a frame that could not be decoded (it must then
        carry no tracks). A model that refines the detector's pose uses the frame's
        detector keypoints.
        """
        entry = self._window_frame(frame)
        n = len(entry.track_ids)
        if self.config.crop_mode == "key_box":
            entry.frame_bgr = frame.frame_bgr if n else None
        elif n:
            entry.features = self._submit(self._crop_pass, frame.frame_bgr, entry)
            self.backbone_crops += n
        # With an executor, the records that the previous frame completed are queued after
        # this frame's features: a record task then seldom waits on the feature task it needs
        # while that still runs, and two feature tasks can run at once.
        self._submit_ready()
        self._ready += self._frames.push(entry)
        if self._executor is None:
            self._submit_ready()
        return self._collect(wait_all=False)

    def flush(self) -> list[FrameRecord]:
        """Emit the frames still waiting for their future neighbours (end of the video)."""
        self._ready += self._frames.flush()
        self._submit_ready()
        out = self._collect(wait_all=True)
        self._posed_track_ids = np.zeros(0, np.int64)  # a next video's track ids start anew
        return out

    def _window_frame(self, frame: TrackedFrame) -> _WindowFrame:
        """The frame's tracks scoring at least ``min_box_score`` (none without an image),
        their crop affines and the detector's pose in PoseTrack slots."""
        ids = np.asarray(frame.track_ids, np.int64).reshape(-1)
        boxes = np.asarray(frame.boxes_xyxy, np.float32).reshape(-1, 4)
        sc = np.asarray(frame.scores, np.float32).reshape(-1)
        prior_xy, prior_scores = detections_prior(frame.keypoints_xy, frame.keypoint_scores)
        keep = sc >= self.config.min_box_score
        if frame.frame_bgr is None:
            keep[:] = False
        ids, boxes, sc = ids[keep], boxes[keep], sc[keep]
        affines = crop_affines(boxes, self.crop_hw)
        return _WindowFrame(
            frame.frame_index,
            frame.timestamp_s,
            ids,
            boxes,
            sc,
            affines,
            prior_xy[keep],
            prior_scores[keep],
        )

    def _submit_ready(self) -> None:
        for win in self._ready:
            n = len(win.key_frame.track_ids)
            self.clips_predicted += n
            if self.config.crop_mode == "key_box":
                self.backbone_crops += n * self.window
            self._pending.append(self._submit(self._record, win))
        self._ready.clear()

    def _collect(self, wait_all: bool) -> list[FrameRecord]:
        """Finished records in frame order; waits for the oldest while too many are in
        flight (or for all with ``wait_all``)."""
        out = []
        while self._pending and (
            wait_all or self._pending[0].done() or len(self._pending) > self._max_pending
        ):
            out.append(self._without_duplicates(self._pending.popleft().result()))
        return out

    def _without_duplicates(self, record: FrameRecord) -> FrameRecord:
        """``record`` without the second poses on one person (``duplicate_oks``,
        :func:`posetool.run.duplicate_poses.distinct_pose_rows`); run on the records in frame
        order, so that a track posed in the previous frame keeps its pose over an alike one
        (two tracks on one person do not take turns)."""
        keep = distinct_pose_rows(
            record.keypoints_xy,
            record.keypoint_visible,
            record.boxes_xyxy,
            record.box_scores,
            self.config.duplicate_oks,
            preferred=np.isin(record.track_ids, self._posed_track_ids),
        )
        if len(keep) < record.num_persons:
            record = record.select(keep)
        if record.num_persons:  # a frame with no one (or no image) keeps the last ones
            self._posed_track_ids = record.track_ids.copy()
        return record

    def _submit(self, fn, *args) -> Future:
        return submit_timed(self._executor, self._busy.add, fn, *args)

    # ----- model calls (thread-safe: no shared state is written) -------------------------
    def _crop_pass(self, frame_bgr: np.ndarray, entry: _WindowFrame) -> _CropPass:
        """own_box: the backbone features of each track's crop in this frame, and with a
        crop-prior model the Pose head's prior from the same pass."""
        feats, prior_xy, prior_scores = self._features(
            rgb_crops(frame_bgr, entry.affines, self.crop_hw),
            entry,
            range(len(entry.track_ids)),
            frame_bgr,
        )
        by_track = {int(t): feats[i] for i, t in enumerate(entry.track_ids)}
        return _CropPass(by_track, prior_xy, prior_scores)

    def _features(
        self, crops_rgb: np.ndarray, entry: _WindowFrame, rows: range, frame_bgr: np.ndarray
    ):
        """Backbone features of the (M, H, W, 3) uint8 RGB crops of ``entry``'s ``rows`` (of
        ``frame_bgr``) in batches → (M, C, h, w), and for a crop-prior model their (M, K, 2)
        image px and (M, K) priors (else None, None)."""
        import torch

        device = self.config.device
        crop_prior = self.model.uses_crop_prior
        parts, xy_parts, score_parts = [], [], []
        step = self.config.batch_size * self.window
        with torch.no_grad():
            for i in range(0, len(crops_rgb), step):
                x = torch.from_numpy(crops_rgb[i : i + step]).to(device)
                if not crop_prior:
                    parts.append(self.model.frame_features_rgb(x))
                    continue
                feats, pose = self.model.frame_features_and_pose_rgb(x)
                parts.append(feats)
                r = list(rows[i : i + step])
                crop_xy, crop_sc, found = crop_pose_priors(
                    pose, entry.affines[r], entry.boxes_xyxy[r]
                )
                sees_more = crop_sees_more(
                    entry.affines[r], frame_bgr.shape[:2], self.detector_imgsz
                )
                xy, sc = choose_prior(
                    crop_xy,
                    crop_sc,
                    found,
                    entry.prior_xy[r],
                    entry.prior_scores[r],
                    sees_more,
                    self.config.prior_choice,
                )
                if self.config.prior_choice == "rule":
                    xy, sc, _ = rule_prior_reruns(
                        [frame_bgr] * len(r),
                        entry.boxes_xyxy[r],
                        xy,
                        sc,
                        found & sees_more,
                        sees_more,
                        self.detector_imgsz,
                        lambda crops: self.model.pose_head_rgb(crops.to(device)),
                        **prior_crop_settings(self.config),
                    )
                xy_parts.append(xy)
                score_parts.append(sc)
        if not crop_prior:
            return torch.cat(parts), None, None
        return torch.cat(parts), np.concatenate(xy_parts), np.concatenate(score_parts)

    def _record(self, win: ReadyWindow[_WindowFrame]) -> FrameRecord:
        entry = win.key_frame
        n = len(entry.track_ids)
        kp = np.zeros((n, NUM_KEYPOINTS, 2), np.float32)
        kp_scores = np.zeros((n, NUM_KEYPOINTS), np.float32)
        spread = np.full((n, NUM_KEYPOINTS), np.nan, np.float32)
        step = self.config.batch_size
        for start in range(0, n, step):
            rows = range(start, min(n, start + step))
            result, prior_scores = self._predict(win, rows)
            peak = result.scores
            if prior_scores is not None:
                peak = joint_scores(peak, prior_scores, self.config.prior_score_weight)
            for j, row in enumerate(rows):
                kp[row], px_per_crop_px = crop_to_image(result.keypoints_xy[j], entry.affines[row])
                spread[row] = result.spread[j] * px_per_crop_px
                kp_scores[row] = peak[j] * entry.scores[row]
        visible = np.ones((n, NUM_KEYPOINTS), bool)
        visible[:, list(PLACEHOLDER_SLOTS)] = False  # ears: PoseTrack placeholders
        return FrameRecord(
            frame_index=entry.frame_index,
            timestamp_s=entry.timestamp_s,
            boxes_xyxy=entry.boxes_xyxy,
            box_scores=entry.scores,
            track_ids=entry.track_ids,
            keypoints_xy=kp,
            keypoint_scores=kp_scores,
            keypoint_spread_px=spread,
            keypoint_visible=visible,
            head_boxes_xyxy=head_boxes_from_keypoints(kp),
        )

    def _predict(self, win: ReadyWindow[_WindowFrame], rows: range):
        """The model's result for ``rows`` of the key frame, and the (B, K) keypoint scores of
        the prior it refined (None for a model without one)."""
        import torch

        cfg = self.config
        entry = win.key_frame
        windows = [win.rows(int(entry.track_ids[r])) for r in rows]
        (prior, *extra_priors), prior_scores = self._priors(entry, rows)
        if cfg.crop_mode == "own_box":
            feats = torch.stack(
                [
                    torch.stack(
                        [e.features.result().features[int(e.track_ids[r])] for e, r in frames]
                    )
                    for frames in windows
                ]
            )
            result = self.model.predict_from_features(
                feats,
                cfg.steps,
                cfg.ensemble,
                None,
                noise=self._noise,
                prior=prior,
                extra_priors=extra_priors,
                decoding=cfg.heatmap_decoding,
            )
            return result, prior_scores
        # (B, T, 3, H, W), every frame with the key frame's affine
        crops = np.stack(
            [
                np.concatenate(
                    [
                        normalized_crops(e.frame_bgr, entry.affines[r][None], self.crop_hw)
                        for e, _ in frames
                    ]
                )
                for r, frames in zip(rows, windows, strict=True)
            ]
        )
        clips = torch.from_numpy(crops).to(cfg.device)
        result = self.model.predict(
            clips,
            cfg.steps,
            cfg.ensemble,
            None,
            cfg.flip_test,
            noise=self._noise,
            prior=prior,
            extra_priors=extra_priors,
            decoding=cfg.heatmap_decoding,
        )
        return result, prior_scores

    def _priors(self, entry: _WindowFrame, rows: range) -> tuple[list, np.ndarray | None]:
        """[(B, K, h, w) heatmaps of the detector's pose in the key frame's crops], plus the
        whole-frame detection's with ``prior_choice`` "both", and the first one's (B, K)
        keypoint scores; [None] and None for a model that does not refine it."""
        if not self.model.uses_prior:
            return [None], None
        heatmaps, scores = self._prior(entry, rows)
        priors = [heatmaps]
        if self.model.uses_crop_prior and self.config.prior_choice == "both":
            priors.append(self._heatmaps(entry, rows, entry.prior_xy, entry.prior_scores))
        return priors, scores

    def _prior(self, entry: _WindowFrame, rows: range):
        """(B, K, h, w) heatmaps of the prior ``prior_choice`` picks in the key frame's
        crops, and its (B, K) keypoint scores."""
        prior_xy, prior_scores = entry.prior_xy, entry.prior_scores  # the detection's pose
        if self.model.uses_crop_prior:
            if self.config.crop_mode == "own_box":
                crop_pass = entry.features.result()
                prior_xy, prior_scores = crop_pass.prior_xy, crop_pass.prior_scores
            else:  # key_box: one more pass over the key frame's crops, for their Pose head
                crops = rgb_crops(entry.frame_bgr, entry.affines[list(rows)], self.crop_hw)
                _, xy_rows, sc_rows = self._features(crops, entry, rows, entry.frame_bgr)
                prior_xy, prior_scores = prior_xy.copy(), prior_scores.copy()
                prior_xy[list(rows)], prior_scores[list(rows)] = xy_rows, sc_rows
        return self._heatmaps(entry, rows, prior_xy, prior_scores), prior_scores[list(rows)]

    def _heatmaps(self, entry: _WindowFrame, rows: range, prior_xy, prior_scores):
        """(B, K, h, w) heatmaps of (N, K, 2) image-px keypoints in ``rows``' crops; for a
        model told where the others' joints are (``uses_others``), (B, 2K, h, w) with the
        detector's poses of the frame's other posed persons, nearest first."""
        import torch

        stride = float(self.model.stride)
        xy = np.stack([apply_affine(prior_xy[r], entry.affines[r]) / stride for r in rows])
        scores = prior_scores[list(rows)]
        others_xy = others_scores = None
        if self.model.uses_others:
            others = [
                nearest_others(
                    entry.boxes_xyxy[r], entry.boxes_xyxy, entry.prior_xy, entry.prior_scores, r
                )
                for r in rows
            ]
            others_xy = torch.from_numpy(np.stack([
                apply_affine(o_xy, entry.affines[r]) / stride
                for (o_xy, _), r in zip(others, rows, strict=True)
            ]).astype(np.float32))  # fmt: skip
            others_scores = torch.from_numpy(np.stack([sc for _, sc in others]))
        prior = self.model.prior_from_keypoints(
            torch.from_numpy(xy.astype(np.float32)),
            torch.from_numpy(scores),
            others_xy,
            others_scores,
        )
        return prior.to(self.config.device)


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
