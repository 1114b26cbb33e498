"""Leeds Sports Pose (``joints.mat`` (3, 14, N): x, y, occluded flag).

The flag is 1 for occluded joints and 0 for visible ones (checked by drawing them on
images); every joint has a location, so all 14 get weight 1. Standard split: the first 1000
images train, the last 1000 test. LSP has no nose (its 15th PoseTrack joint), which stays
unlabelled. Each image becomes a static clip of 2δ+1 copies.
"""

from __future__ import annotations

from pathlib import Path

from diffpose.data.samples import PoseSample, keypoint_box
from diffpose.keypoints import to_posetrack


def load_lsp(root: str | Path, split: str = "train", delta: int = 2) -> list[PoseSample]:
    """LSP samples of ``split``: "train" (images 1..1000), "test" (1001..2000), "all", or
    the train split cut for model selection: "fit" (1..900) and "val" (901..1000)."""
    from scipy.io import loadmat

    root = Path(root)
    mat_path = root / "joints.mat"
    if not mat_path.is_file():
        raise FileNotFoundError(f"{mat_path}: LSP joints.mat not found")
    joints = loadmat(str(mat_path))["joints"]
    if joints.shape[:2] != (3, 14):
        raise ValueError(f"{mat_path}: expected joints of shape (3, 14, N), got {joints.shape}")
    n = joints.shape[2]
    ranges = {
        "train": range(0, min(1000, n)),
        "test": range(1000, n),
        "all": range(n),
        "fit": range(0, min(900, n)),
        "val": range(900, min(1000, n)),
    }
    if split not in ranges:
        raise ValueError(f"split must be one of {sorted(ranges)}, got {split!r}")
    samples = []
    for i in ranges[split]:
        path = root / "images" / f"im{i + 1:04d}.jpg"
        if not path.is_file():
            continue
        kp, w = to_posetrack("lsp14", joints[:2, :, i].T)
        box = keypoint_box(kp, w, pad=0.15)
        if box is None:
            continue
        samples.append(
            PoseSample(
                frame_paths=(str(path),) * (2 * delta + 1),
                keypoints_xy=kp,
                weights=w,
                box_xyxy=box,
                static=True,
                source="lsp",
            )
        )
    return samples
