"""Test helper: human-edited results made reproducibly from real labels (LSP).

Each LSP image is scaled into a fixed canvas and repeated ``hold`` times as an image sequence
(PNG, lossless); its real joints are written, on the middle copy, as a person with
``human_edited: true`` — what an analyst's corrections look like to ``posetool finetune``.
``sideways`` turns every frame 90° clockwise: footage from a camera mounted on its side, a
view the shipped model rarely saw (its training rotates by at most 45°).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from diffpose.keypoints import to_posetrack
from posetool.io.posetrack_io import write_posetrack
from posetool.records import FrameRecord, VideoMeta, VideoResult


def write_lsp_edits(
    lsp_root: Path,
    out_dir: Path,
    first: int,
    count: int,
    hold: int = 5,
    canvas: int = 256,
    fps: float = 25.0,
    sideways: bool = False,
) -> tuple[Path, Path]:
    """Frames folder and result JSON of LSP images ``first+1 .. first+count`` (1-based names).

    Returns:
        (result JSON, frames folder): the folder is the result's "video".
    """
    from scipy.io import loadmat

    joints = loadmat(str(lsp_root / "joints.mat"))["joints"]
    frames_dir = out_dir / "lsp_edits"
    frames_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for n, i in enumerate(range(first, first + count)):
        image = cv2.imread(str(lsp_root / "images" / f"im{i + 1:04d}.jpg"))
        scale = 0.8 * canvas / max(image.shape[:2])
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        top, left = (canvas - small.shape[0]) // 2, (canvas - small.shape[1]) // 2
        frame = np.zeros((canvas, canvas, 3), np.uint8)
        frame[top : top + small.shape[0], left : left + small.shape[1]] = small
        kp, weights = to_posetrack("lsp14", joints[:2, :, i].T)
        kp = kp * scale + [left, top]
        if sideways:  # 90° clockwise: (x, y) -> (canvas - 1 - y, x)
            frame = cv2.rotate(frame, cv2.ROTATE_90_CLOCKWISE)
            kp = np.stack([canvas - 1 - kp[:, 1], kp[:, 0]], axis=1)
        visible = weights > 0
        pts = kp[visible]
        pad = 0.15 * (pts.max(0) - pts.min(0))
        box = np.concatenate([pts.min(0) - pad, pts.max(0) + pad]).clip(0, canvas - 1)
        for c in range(hold):
            f = n * hold + c
            cv2.imwrite(str(frames_dir / f"{f:06d}.png"), frame)
            if c != hold // 2:
                records.append(FrameRecord(frame_index=f, timestamp_s=f / fps))
                continue
            records.append(
                FrameRecord(
                    frame_index=f,
                    timestamp_s=f / fps,
                    boxes_xyxy=box[None],
                    box_scores=[1.0],
                    track_ids=[n + 1],
                    keypoints_xy=kp[None],
                    keypoint_scores=np.ones((1, 17)),
                    keypoint_visible=visible[None],
                    human_edited=[True],
                )
            )
    meta = VideoMeta(
        path=frames_dir, fps=fps, frame_count=len(records), width=canvas, height=canvas
    )
    result_path = write_posetrack(VideoResult(meta, tuple(records)), out_dir / "lsp_edits.json")
    return result_path, frames_dir
