"""The crop prior's decoding (diffpose.crop_pose): the YOLO Pose head on a person crop, read
the way ultralytics reads it, and the crop's person picked by its reference box."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from diffpose.backbones import build_yolo_backbone
from diffpose.crop_pose import decode_crop_pose
from diffpose.data.lsp import load_lsp
from posetool.run.pose_crops import crop_affines, rgb_crops
from tests.required import missing_input


@pytest.fixture(scope="module")
def backbone():
    return build_yolo_backbone(pose_head=True).eval()


@pytest.fixture(scope="module")
def lsp_crops(shared_data):
    """Two real LSP persons cropped around their label boxes as the pipeline crops a track,
    with each box in crop pixels."""
    samples = load_lsp(shared_data / "lsp", "test", 0)[:2]
    crops, refs = [], []
    for s in samples:
        image = cv2.imread(s.key_frame_path)
        if image is None:
            missing_input(f"{s.key_frame_path} is absent")
        box = np.asarray(s.box_xyxy, np.float32)
        a = crop_affines(box[None], (256, 192))[0]
        crops.append(rgb_crops(image, a[None], (256, 192)))
        corners = box.reshape(2, 2) @ a[:, :2].T + a[:, 2]
        refs.append(corners.reshape(4))
    return torch.from_numpy(np.concatenate(crops)), np.stack(refs)


def test_the_head_shares_the_backbone_pass_and_decodes_as_ultralytics(backbone, lsp_crops):
    crops, refs = lsp_crops
    features, pose = backbone.forward_rgb_pose(crops, torch.float32)
    torch.testing.assert_close(features, backbone.forward_rgb(crops, torch.float32))
    found = decode_crop_pose(pose, refs)
    assert found.found.all()
    # ultralytics' own decoding of the same head: its best candidate on each crop
    from ultralytics.nn.tasks import torch_safe_load

    from diffpose.yolo_weights import default_weights_path

    ckpt, _ = torch_safe_load(str(default_weights_path()), safe_only=True)
    full = (ckpt.get("ema") or ckpt["model"]).float().eval().fuse(verbose=False)
    with torch.no_grad():
        y = full(crops.permute(0, 3, 1, 2).float() / 255.0)[0]  # (M, 56, A)
    for i in range(len(crops)):
        j = int(found.anchor_index[i])
        assert y[i, 4, j] > 0.5  # the crop's person, picked by score × IoU with its box
        kp = y[i, 5:, j].view(17, 3).numpy()
        np.testing.assert_allclose(found.keypoints_xy[i], kp[:, :2], atol=1e-3)
        np.testing.assert_allclose(found.keypoint_scores[i], kp[:, 2], atol=1e-5)
        assert found.person_scores[i] == pytest.approx(float(y[i, 4, j]), abs=1e-5)


def test_a_crop_whose_reference_box_holds_no_one_has_no_pose(backbone, lsp_crops):
    crops, refs = lsp_crops
    _, pose = backbone.forward_rgb_pose(crops, torch.float32)
    corner = np.tile(np.array([[0.0, 0.0, 12.0, 12.0]]), (len(crops), 1))
    missed = decode_crop_pose(pose, corner)
    assert not missed.found.any()
    assert (missed.keypoint_scores == 0).all()
