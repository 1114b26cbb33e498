"""Frozen configuration of the DiffPose model and its named presets.

YAML/JSON files are only a serialisation of ``to_dict(cfg)``; :meth:`DiffPoseConfig.from_dict`
rejects unknown keys with a "did you mean" hint. Every range is validated in ``__post_init__``
(ValueError, never ``assert``). Presets: :meth:`DiffPoseConfig.paper` (ViT-H, the paper's
setting), :meth:`DiffPoseConfig.cpu` (YOLO11n-pose backbone, the shipped CPU model) and
:meth:`DiffPoseConfig.tiny` (tests).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from diffpose.config_keys import check_known_keys

BACKBONE_KINDS = ("vit", "yolo")
#: The YOLO feature choices that end at the neck's P4, where the Pose head reads: the ones a
#: crop prior (the Pose head re-run on the crop) can be had from.
YOLO_NECK_FEATURES = ("neck", "neck_keypoints", "neck_p3")
YOLO_FEATURES = ("backbone", *YOLO_NECK_FEATURES)
#: How averaged heatmaps become keypoints at inference: "quarter" (the argmax with HRNet's
#: quarter-pixel shift, diffpose.heatmaps.decode_heatmaps) or "dark" (DARK's Taylor step,
#: diffpose.heatmaps.decode_heatmaps_dark).
HEATMAP_DECODINGS = ("quarter", "dark")
INTERACTIONS = ("lookup", "direct")
#: Where a refiner's prior comes from: the pipeline detector's pose of the person (640 px,
#: whole frame), or the detector's Pose head run again on the person's own crop
#: (diffpose.crop_pose).
PRIOR_SOURCES = ("detection", "crop")

#: ViT sizes (embed_dim, depth, num_heads), ViT-H as the paper (§3.2, ViTPose-style) down to tiny.
VIT_SIZES: dict[str, tuple[int, int, int]] = {
    "huge": (1280, 32, 16),
    "large": (1024, 24, 16),
    "base": (768, 12, 12),
    "small": (384, 12, 6),
    "tiny": (192, 12, 3),
}


def _positive(name: str, value: int | float) -> None:
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


def _choice(name: str, value: str, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")


def _divisible(name: str, dim: int, heads: int) -> None:
    if dim % heads:
        raise ValueError(f"{name}: width {dim} is not divisible by {heads} heads")


@dataclass(frozen=True)
class BackboneConfig:
    """Per-frame feature extractor (§3.2: "a plain Vision Transformer ... as the backbone").

    Attributes:
        kind: "vit" (timm ViT, ViTPose-style) or "yolo" (pretrained YOLO11n-pose layers).
        vit_embed_dim, vit_depth, vit_num_heads: ViT width, blocks and heads (see VIT_SIZES).
        vit_drop_path: stochastic depth rate of the ViT (training only).
        vit_checkpoint: optional path of a ViTPose or MAE checkpoint to load ("" = random).
        yolo_features: "backbone" (layer 6, P4 of the backbone), "neck" (layer 19, the
            stride-16 map that the pose head reads) or "neck_keypoints" (that map followed by
            the Pose head's keypoint-branch hidden features at P4 and, averaged to stride 16,
            at P3: 128 + 51 + 51 channels) or "neck_p3" (that map followed by the neck's
            stride-8 P3 map unshuffled to stride 16, 128 + 4 × 64 channels: the STRL reads the
            stride-16 map, and the key frame's P3, at its own 32×24, joins the decoder's
            32×24 condition 𝔽², so the finer scales see finer features than 𝔽 upsampled).
        freeze: keep the backbone weights fixed (and BatchNorm in eval mode).
    """

    kind: str = "yolo"
    vit_embed_dim: int = 1280
    vit_depth: int = 32
    vit_num_heads: int = 16
    vit_drop_path: float = 0.0
    vit_checkpoint: str = ""
    yolo_features: str = "neck"
    freeze: bool = True

    def __post_init__(self) -> None:
        _choice("backbone.kind", self.kind, BACKBONE_KINDS)
        _choice("backbone.yolo_features", self.yolo_features, YOLO_FEATURES)
        for name in ("vit_embed_dim", "vit_depth", "vit_num_heads"):
            _positive(f"backbone.{name}", getattr(self, name))
        _divisible("backbone.vit", self.vit_embed_dim, self.vit_num_heads)
        if not 0.0 <= self.vit_drop_path < 1.0:
            raise ValueError(f"backbone.vit_drop_path must be in [0, 1), got {self.vit_drop_path}")

    @classmethod
    def vit(cls, size: str = "huge", **kwargs: Any) -> BackboneConfig:
        """A ViT backbone of one of the VIT_SIZES names."""
        if size not in VIT_SIZES:
            raise ValueError(f"unknown ViT size {size!r}; known: {sorted(VIT_SIZES)}")
        dim, depth, heads = VIT_SIZES[size]
        return cls(kind="vit", vit_embed_dim=dim, vit_depth=depth, vit_num_heads=heads, **kwargs)


@dataclass(frozen=True)
class STRLConfig:
    """SpatioTemporal Representation Learner (§3.2, Eq. 3).

    Attributes:
        dim: token width of the cascaded Transformer encoders.
        depth: number L of pre-norm encoder layers (MHSA + FFN).
        num_heads: attention heads.
        mlp_ratio: FFN hidden width / dim.
        patch_size: patch embedding of each frame's feature map (1 = one token per position;
            2 = 2×2 patches, four times fewer tokens, the CPU preset's choice).
        mlp_hidden: hidden width of the MLP that aggregates the frames into the condition.
        cond_channels: channels C of the condition 𝔽 (C, 16, 12).
        key_frame_skip: add a 1×1-conv projection of the key frame's own features to 𝔽, so
            that with patch_size > 1 the condition keeps the backbone's full resolution at
            the key frame while the Transformer mixes the frames on the coarser token grid.
    """

    dim: int = 256
    depth: int = 4
    num_heads: int = 8
    mlp_ratio: float = 4.0
    patch_size: int = 1
    mlp_hidden: int = 512
    cond_channels: int = 256
    key_frame_skip: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name != "key_frame_skip":
                _positive(f"strl.{f.name}", getattr(self, f.name))
        _divisible("strl", self.dim, self.num_heads)


@dataclass(frozen=True)
class DecoderConfig:
    """Pose-Decoder with Lookup-based Multi-Scale Feature Interaction (§3.3, Eqs. 4-5).

    Attributes:
        dims: channels at the three scales (16×12, 32×24, 64×48), low to high resolution.
        num_heads: heads of the low-resolution Transformers.
        refine_depth: Transformer layers of the self-refinement SeRef (Eq. 4).
        interact_depth: Transformer layers after concatenating A¹⊙𝔽¹ and 𝔽¹ (Eq. 4).
        mlp_ratio: FFN width ratio of those Transformers.
        head_channels: channels of the three upsampled representations summed before the
            3×3 detection head.
        interaction: "lookup" (LMSFI) or "direct" (the paper's Direct baseline, Table 4).
        scales: 3 (multi-scale) or 1 (the Low-resolution baseline, Table 5).
        prior: refine the detector's pose: its keypoints, as Gaussian heatmaps scaled by
            their confidence, enter the decoder beside x_t, and the decoder predicts x0 as
            that prior plus a learned correction (zero at initialisation). False is the
            paper's decoder, which sees only x_t and 𝔽.
        prior_source: with ``prior``, "detection" (the detector's pose on the whole frame,
            given by the caller) or "crop" (the YOLO backbone's own Pose head on the person
            crop, :mod:`diffpose.crop_pose`; the detection's pose where it finds nobody).
        prior_others: with ``prior``, the decoder is also told where the other persons'
            joints are in the crop: K more heatmaps (per joint, the maximum over the nearest
            other persons' detector-pose heatmaps) beside the prior, so that it can tell a
            prior joint taken from a neighbour. The caller gives their poses.
    """

    dims: tuple[int, int, int] = (256, 128, 64)
    num_heads: int = 8
    refine_depth: int = 1
    interact_depth: int = 2
    mlp_ratio: float = 4.0
    head_channels: int = 64
    interaction: str = "lookup"
    scales: int = 3
    prior: bool = False
    prior_source: str = "detection"
    prior_others: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "dims", tuple(int(d) for d in self.dims))
        _choice("decoder.prior_source", self.prior_source, PRIOR_SOURCES)
        if len(self.dims) != 3:
            raise ValueError(f"decoder.dims needs 3 widths (low to high res), got {self.dims}")
        for d in self.dims:
            _positive("decoder.dims", d)
        for name in ("num_heads", "interact_depth", "mlp_ratio", "head_channels"):
            _positive(f"decoder.{name}", getattr(self, name))
        if self.refine_depth < 0:
            raise ValueError(f"decoder.refine_depth must be >= 0, got {self.refine_depth}")
        _divisible("decoder", self.dims[0], self.num_heads)
        _choice("decoder.interaction", self.interaction, INTERACTIONS)
        if self.scales not in (1, 3):
            raise ValueError(f"decoder.scales must be 3 or 1, got {self.scales}")
        if self.prior_others and not self.prior:
            raise ValueError("decoder.prior_others needs decoder.prior (a refiner)")


@dataclass(frozen=True)
class DiffusionConfig:
    """Diffusion process (§3.1, §3.4): cosine schedule, x0 prediction, signal scale.

    Attributes:
        timesteps: T, the number of diffusion steps (paper: 1000).
        cosine_s: offset s of the cosine schedule.
        signal_scale: heatmaps map to x0 = (2H − 1)·scale (DiffusionDet style), clamped.
        sigma: Gaussian sigma of the target heatmaps, in heatmap pixels.
    """

    timesteps: int = 1000
    cosine_s: float = 0.008
    signal_scale: float = 2.0
    sigma: float = 2.0

    def __post_init__(self) -> None:
        for f in fields(self):
            _positive(f"diffusion.{f.name}", getattr(self, f.name))


@dataclass(frozen=True)
class DiffPoseConfig:
    """The whole model: input geometry, temporal window and the four parts.

    Attributes:
        delta: temporal interval δ; clips hold T = 2δ+1 frames (paper: 2).
        image_size: crop (H, W), 256×192 as the paper; must be a multiple of 16.
        num_keypoints: K heatmaps (17 PoseTrack slots).
    """

    delta: int = 2
    image_size: tuple[int, int] = (256, 192)
    num_keypoints: int = 17
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    strl: STRLConfig = field(default_factory=STRLConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_size", tuple(int(s) for s in self.image_size))
        if self.delta < 0:
            raise ValueError(f"delta must be >= 0, got {self.delta}")
        if len(self.image_size) != 2 or any(s <= 0 or s % 16 for s in self.image_size):
            raise ValueError(
                f"image_size must be 2 positive multiples of 16, got {self.image_size}"
            )
        _positive("num_keypoints", self.num_keypoints)
        if (
            self.decoder.prior
            and self.decoder.prior_source == "crop"
            and (
                self.backbone.kind != "yolo"
                or self.backbone.yolo_features not in YOLO_NECK_FEATURES
            )
        ):
            raise ValueError(
                "decoder.prior_source 'crop' runs the YOLO Pose head on the crop: it needs "
                f"backbone.kind 'yolo' with yolo_features one of {YOLO_NECK_FEATURES}"
            )
        if self.backbone.kind == "yolo" and self.backbone.yolo_features == "neck_p3":
            if self.decoder.scales != 3:
                raise ValueError(
                    "backbone.yolo_features 'neck_p3' feeds the decoder's 32×24 scale: it "
                    "needs decoder.scales 3"
                )
        h, w = self.feature_size
        p = self.strl.patch_size
        if h % p or w % p:
            raise ValueError(f"strl.patch_size {p} does not divide the feature map {h}×{w}")

    @property
    def num_frames(self) -> int:
        """T = 2δ+1."""
        return 2 * self.delta + 1

    @property
    def feature_size(self) -> tuple[int, int]:
        """(h, w) of the stride-16 per-frame features and of the condition 𝔽."""
        return self.image_size[0] // 16, self.image_size[1] // 16

    @property
    def heatmap_size(self) -> tuple[int, int]:
        """(h, w) of the heatmaps, 4× the feature map (64×48 for 256×192 crops)."""
        return self.image_size[0] // 4, self.image_size[1] // 4

    # ----- presets -----------------------------------------------------------------------
    @classmethod
    def paper(cls) -> DiffPoseConfig:
        """The paper's setting: ViT-H backbone, δ=2, 256×192, T=1000 (§4.1)."""
        return cls(delta=2, backbone=BackboneConfig.vit("huge", freeze=False))

    @classmethod
    def cpu(cls) -> DiffPoseConfig:
        """The shipped CPU model: :meth:`cpu_paper` refining the detector's own pose.

        The decoder also sees the YOLO11n-pose keypoints of the person (``decoder.prior``),
        from the Pose head run again on the person's own crop (``prior_source="crop"``:
        better limbs than the whole-frame detection's), and predicts them plus a learned
        correction, with a wider head (24 channels: the correction of 17 joints went
        through 8). Its decoder interaction is the paper's Direct baseline, which beat LMSFI
        on the validation split once the prior is there (Table 4 analogue).
        resources/MODEL_CARD.md has why.
        """
        base = cls.cpu_paper()
        decoder = replace(
            base.decoder,
            prior=True,
            prior_source="crop",
            head_channels=24,
            interaction="direct",
        )
        return replace(base, decoder=decoder)

    @classmethod
    def cpu_paper(cls) -> DiffPoseConfig:
        """The paper-faithful CPU model: pure-noise start, the paper's LMSFI, no prior.

        Frozen YOLO11n-pose neck features and a light STRL/decoder, sized for the crowd-video
        speed goal of the pipeline (bench/bench_pipeline.py): the STRL mixes the 2δ+1 frames
        on an 8×6 token grid (patch 2, 240 tokens; the full 16×12 grid, 960 tokens, made its
        attention most of the cost per person), and the key frame's own 16×12 features are
        added back to 𝔽 (key_frame_skip): patch 2 alone regressed wrists toward the elbows
        (resources/MODEL_CARD.md).
        """
        return cls(
            delta=2,
            backbone=BackboneConfig(kind="yolo", yolo_features="neck", freeze=True),
            strl=STRLConfig(
                dim=96,
                depth=2,
                num_heads=2,
                mlp_ratio=2.0,
                patch_size=2,
                mlp_hidden=256,
                cond_channels=64,
                key_frame_skip=True,
            ),
            # Few heads and narrow high-resolution maps: on a CPU the N·steps decoder passes
            # dominate, and softmax cost grows with heads × tokens² (bench/bench_diffpose.py).
            decoder=DecoderConfig(
                dims=(48, 16, 8),
                num_heads=2,
                refine_depth=1,
                interact_depth=1,
                mlp_ratio=2.0,
                head_channels=8,
            ),
        )

    @classmethod
    def tiny(cls, delta: int = 1, **overrides: Any) -> DiffPoseConfig:
        """A very small random-weight ViT model for tests (seconds on a CPU).

        ``overrides`` replace whole fields, e.g. ``decoder=DecoderConfig(scales=1, ...)``.
        """
        cfg = cls(
            delta=delta,
            backbone=BackboneConfig(
                kind="vit", vit_embed_dim=32, vit_depth=1, vit_num_heads=2, freeze=False
            ),
            strl=STRLConfig(
                dim=32,
                depth=1,
                num_heads=2,
                mlp_ratio=2.0,
                patch_size=2,
                mlp_hidden=64,
                cond_channels=32,
            ),
            decoder=DecoderConfig(
                dims=(32, 16, 8),
                num_heads=2,
                refine_depth=1,
                interact_depth=1,
                mlp_ratio=2.0,
                head_channels=16,
            ),
        )
        return replace(cfg, **overrides)

    # ----- serialisation -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain dict (lists for tuples), the form written to YAML/JSON and checkpoints."""
        return _lists(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiffPoseConfig:
        """Build from :meth:`to_dict` output; unknown keys raise ValueError with a hint."""
        subs = {
            "backbone": BackboneConfig,
            "strl": STRLConfig,
            "decoder": DecoderConfig,
            "diffusion": DiffusionConfig,
        }
        top = _check_keys(cls, data, "")
        for name, sub_cls in subs.items():
            if name in top:
                if not isinstance(top[name], dict):
                    raise ValueError(f"{name} must be a mapping, got {type(top[name]).__name__}")
                top[name] = sub_cls(**_check_keys(sub_cls, top[name], f"{name}."))
        return cls(**top)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_lists(v) for v in value]
    return value


def _check_keys(cls: type, data: dict[str, Any], prefix: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__} needs a mapping, got {type(data).__name__}")
    check_known_keys(data, [f.name for f in fields(cls)], prefix.rstrip("."))
    return dict(data)
