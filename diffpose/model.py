"""DiffPose: the training loss (Algorithm 1, Eq. 6) and inference with steps and ensemble (Alg. 2).

Inference cost is kept down by computing everything that depends on the clip only once: the
per-frame backbone features (reusable across the 2δ+1 windows a frame belongs to, see
:meth:`DiffPose.frame_features` / :meth:`DiffPose.predict_from_features`), the STRL condition 𝔽
and the decoder's per-clip cache (𝔽¹, 𝔽², 𝔽³ and their global-context projections). The N
ensemble members are denoised as one batch (§3.5, "flexible pose ensemble").

Shape letters: B clips (persons), T frames (2δ+1), N ensemble members, K keypoints, C channels,
H,W image (crop) or heatmap, h,w feature map.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import build_backbone
from .config import HEATMAP_DECODINGS, DiffPoseConfig
from .decoder import ConditionCache, PoseDecoder
from .diffusion import cosine_alphas_cumprod, ddim_sample, own_step_inputs, q_sample
from .heatmaps import (
    decode_heatmaps,
    decode_heatmaps_dark,
    flip_heatmaps_back,
    heatmap_to_crop_xy,
    heatmaps_to_signal,
    prior_heatmaps,
    signal_to_heatmaps,
)
from .joint_loss import joint_weighted_mse
from .keypoints import flip_permutation
from .pose_result import PoseResult
from .strl import STRL


class DiffPose(nn.Module):
    """Backbone → STRL (§3.2) → Pose-Decoder (§3.3), trained and sampled as a diffusion model.

    Build it with :meth:`from_config`; the blocks take explicit arguments.
    """

    def __init__(
        self,
        *,
        backbone: nn.Module,
        strl: STRL,
        decoder: PoseDecoder,
        num_frames: int,
        num_keypoints: int,
        image_size: tuple[int, int],
        timesteps: int = 1000,
        cosine_s: float = 0.008,
        signal_scale: float = 2.0,
        sigma: float = 2.0,
        config: DiffPoseConfig | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.strl = strl
        self.decoder = decoder
        self.num_frames = num_frames
        self.num_keypoints = num_keypoints
        self.image_size = tuple(image_size)
        self.heatmap_size = decoder.heatmap_size
        self.stride = image_size[0] / self.heatmap_size[0]
        self.signal_scale = signal_scale
        self.sigma = sigma
        self.config = config
        #: True when the backbone's weights come from a pinned file (frozen YOLO) and need
        #: not be stored in checkpoints.
        self.backbone_from_source = False
        #: Dtype of the network's weights and activations: float32, or bfloat16 for inference
        #: (see diffpose.precision and :meth:`set_inference_dtype`). Outputs are float32.
        self.inference_dtype = torch.float32
        self.register_buffer(
            "alphas_cumprod", cosine_alphas_cumprod(timesteps, cosine_s), persistent=False
        )

    @classmethod
    def from_config(cls, cfg: DiffPoseConfig) -> DiffPose:
        """Build the model described by ``cfg`` (random weights but for a pretrained backbone)."""
        b, s, d, diff = cfg.backbone, cfg.strl, cfg.decoder, cfg.diffusion
        backbone = build_backbone(
            kind=b.kind,
            image_size=cfg.image_size,
            vit_embed_dim=b.vit_embed_dim,
            vit_depth=b.vit_depth,
            vit_num_heads=b.vit_num_heads,
            vit_drop_path=b.vit_drop_path,
            vit_checkpoint=b.vit_checkpoint,
            yolo_features=b.yolo_features,
            freeze=b.freeze,
            yolo_pose_head=d.prior and d.prior_source == "crop",
        )
        fine = getattr(backbone, "fine_channels", 0)  # the stride-8 map's share, unshuffled
        strl = STRL(
            in_channels=backbone.out_channels - fine,
            num_frames=cfg.num_frames,
            feature_size=cfg.feature_size,
            dim=s.dim,
            depth=s.depth,
            num_heads=s.num_heads,
            mlp_ratio=s.mlp_ratio,
            patch_size=s.patch_size,
            mlp_hidden=s.mlp_hidden,
            out_channels=s.cond_channels,
            key_frame_skip=s.key_frame_skip,
        )
        decoder = PoseDecoder(
            cond_channels=s.cond_channels,
            num_keypoints=cfg.num_keypoints,
            feature_size=cfg.feature_size,
            dims=d.dims,
            num_heads=d.num_heads,
            refine_depth=d.refine_depth,
            interact_depth=d.interact_depth,
            mlp_ratio=d.mlp_ratio,
            head_channels=d.head_channels,
            interaction=d.interaction,
            scales=d.scales,
            out_bias=-diff.signal_scale,
            prior=d.prior,
            prior_others=d.prior_others,
            fine_channels=fine // 4,
        )
        model = cls(
            backbone=backbone,
            strl=strl,
            decoder=decoder,
            num_frames=cfg.num_frames,
            num_keypoints=cfg.num_keypoints,
            image_size=cfg.image_size,
            timesteps=diff.timesteps,
            cosine_s=diff.cosine_s,
            signal_scale=diff.signal_scale,
            sigma=diff.sigma,
            config=cfg,
        )
        model.backbone_from_source = b.kind == "yolo" and b.freeze
        return model

    # ----- the parts -------------------------------------------------------------------
    def set_inference_dtype(self, dtype: torch.dtype) -> DiffPose:
        """Cast the backbone, STRL and decoder to float32 or bfloat16; returns self.

        bfloat16 is for inference only: inputs are cast on the way in, outputs come back as
        float32, and the diffusion arithmetic (schedule, DDIM updates, decoding) stays
        float32. Set float32 again before training.
        """
        if dtype not in (torch.float32, torch.bfloat16):
            raise ValueError(f"inference dtype must be float32 or bfloat16, got {dtype}")
        for part in (self.backbone, self.strl, self.decoder):
            part.to(dtype)
        # bfloat16 convolutions with the decoder's few channels run faster channels-last
        # (bench/bench_diffpose.py; README, Performance)
        layout = torch.channels_last if dtype == torch.bfloat16 else torch.contiguous_format
        self.decoder.to(memory_format=layout)
        self.inference_dtype = dtype
        return self

    def frame_features(self, frames: torch.Tensor) -> torch.Tensor:
        """Per-frame backbone features: (M, 3, H, W) ImageNet-normalised → (M, C, h, w)."""
        if frames.dim() != 4 or tuple(frames.shape[-2:]) != self.image_size:
            raise ValueError(f"frames must be (M, 3, {self.image_size}), got {tuple(frames.shape)}")
        return self.backbone(frames.to(self.inference_dtype)).float()

    def frame_features_rgb(self, crops_rgb: torch.Tensor) -> torch.Tensor:
        """Per-frame backbone features of (M, H, W, 3) uint8 RGB crops → (M, C, h, w) float32.

        The same as :meth:`frame_features` of the normalised crops; a backbone with a
        ``forward_rgb`` (YOLO) skips the normalisation it would undo.
        """
        self._check_rgb_crops(crops_rgb)
        forward_rgb = getattr(self.backbone, "forward_rgb", None)
        if forward_rgb is not None:
            return forward_rgb(crops_rgb, self.inference_dtype).float()
        from .data.transforms import normalize_clip_tensor

        return self.frame_features(normalize_clip_tensor(crops_rgb))

    def frame_features_and_pose_rgb(
        self, crops_rgb: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """:meth:`frame_features_rgb` and, from the same pass, the YOLO Pose head's raw
        outputs on the crops (models with ``uses_crop_prior``; decode them with
        :func:`diffpose.crop_pose.decode_crop_pose`)."""
        if not self.uses_crop_prior:
            raise RuntimeError("this model takes no crop prior (decoder.prior_source)")
        self._check_rgb_crops(crops_rgb)
        features, pose = self.backbone.forward_rgb_pose(crops_rgb, self.inference_dtype)
        return features.float(), pose

    def pose_head_rgb(self, crops_rgb: torch.Tensor) -> dict[str, torch.Tensor]:
        """The YOLO Pose head's raw outputs on (M, H, W, 3) uint8 RGB crops of any size that
        its strides divide (e.g. larger crops than the model's own, for a sharper prior of
        a large person); decode with :func:`diffpose.crop_pose.decode_crop_pose`."""
        if not self.uses_crop_prior:
            raise RuntimeError("this model takes no crop prior (decoder.prior_source)")
        self._check_rgb_crops(crops_rgb, any_size=True)
        return self.backbone.forward_rgb_pose(crops_rgb, self.inference_dtype)[1]

    def _check_rgb_crops(self, crops_rgb: torch.Tensor, any_size: bool = False) -> None:
        """(M, H, W, 3) uint8 crops of the model's own size, or with ``any_size`` of any
        size whose sides the YOLO strides divide (multiples of 32)."""
        size = "H, W" if any_size else self.image_size
        if (
            crops_rgb.dim() != 4
            or crops_rgb.shape[-1] != 3
            or (not any_size and tuple(crops_rgb.shape[1:3]) != tuple(self.image_size))
            or crops_rgb.dtype != torch.uint8
        ):
            raise ValueError(
                f"crops must be (M, {size}, 3) uint8, got {crops_rgb.dtype} {tuple(crops_rgb.shape)}"
            )
        if any_size and (crops_rgb.shape[1] % 32 or crops_rgb.shape[2] % 32):
            raise ValueError(f"crop sides must be multiples of 32, got {tuple(crops_rgb.shape)}")

    def clip_features(self, clips: torch.Tensor) -> torch.Tensor:
        """(B, T, 3, H, W) clips → (B, T, C, h, w) per-frame features."""
        if clips.dim() != 5 or clips.shape[1] != self.num_frames:
            raise ValueError(
                f"clips must be (B, {self.num_frames}, 3, H, W), got {tuple(clips.shape)}"
            )
        return self.frame_features(clips.flatten(0, 1)).unflatten(0, clips.shape[:2])

    @property
    def uses_prior(self) -> bool:
        """True for a model that refines the detector's pose (``decoder.prior``): every call
        then takes ``prior`` heatmaps, see :meth:`prior_from_keypoints`."""
        return bool(self.decoder.prior)

    @property
    def uses_crop_prior(self) -> bool:
        """True for a refiner whose prior is the YOLO Pose head's pose of the person on its
        own crop (``decoder.prior_source == "crop"``, :mod:`diffpose.crop_pose`), rather than
        the whole-frame detection's."""
        return self.uses_prior and getattr(self.backbone, "pose_layers", None) is not None

    @property
    def uses_others(self) -> bool:
        """True for a refiner also told where the other persons' joints are
        (``decoder.prior_others``): :meth:`prior_from_keypoints` then needs their poses."""
        return self.uses_prior and self.decoder.prior_channels > self.num_keypoints

    def prior_from_keypoints(
        self,
        keypoints_hm_xy: torch.Tensor,
        scores: torch.Tensor,
        others_hm_xy: torch.Tensor | None = None,
        others_scores: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        """The ``prior`` argument for a batch: (B, K, h, w) heatmaps of the detector's pose
        ((B, K, 2) heatmap pixels, (B, K) confidences) at this model's heatmap size and
        sigma; None for a model that takes no prior. A model with :attr:`uses_others` also
        takes the other persons' poses in the crops, (B, M, K, 2) heatmap pixels and (B, M, K)
        confidences (zero scores pad M; None: nobody else), and gets (B, 2K, h, w): per
        joint, the maximum over the M others' heatmaps follows the prior's."""
        if not self.uses_prior:
            return None
        own = prior_heatmaps(keypoints_hm_xy.float(), scores, self.heatmap_size, self.sigma)
        if not self.uses_others:
            return own
        if others_hm_xy is None or others_hm_xy.shape[1] == 0:
            return torch.cat([own, torch.zeros_like(own)], dim=1)
        b, m, k = others_scores.shape
        others = prior_heatmaps(
            others_hm_xy.float().reshape(b * m, k, 2),
            others_scores.reshape(b * m, k),
            self.heatmap_size,
            self.sigma,
        )
        return torch.cat([own, others.reshape(b, m, k, *self.heatmap_size).amax(dim=1)], dim=1)

    def prior_flip_permutation(self) -> tuple[int, ...]:
        """The left/right channel swap of a mirrored ``prior`` (the others' maps swap as
        the prior's do)."""
        perm = flip_permutation()
        if not self.uses_others:
            return perm
        return (*perm, *(len(perm) + i for i in perm))

    def condition(
        self, features: torch.Tensor, prior: torch.Tensor | None = None
    ) -> ConditionCache:
        """STRL condition 𝔽 (Eq. 3) and the decoder's per-clip cache, once per clip.

        ``prior``: (B, K, h, w) heatmaps in [0, 1] of the detector's pose (models that
        refine it only).
        """
        return self.conditions(features, [prior])[0]

    def conditions(
        self, features: torch.Tensor, priors: Sequence[torch.Tensor | None]
    ) -> list[ConditionCache]:
        """:meth:`condition` for several priors of the same clips: the STRL, which does not
        depend on the prior, runs once."""
        features = features.to(self.inference_dtype)
        fine = None
        if self.decoder.fine_channels:  # the key frame's stride-8 map, at its own size
            split = features.shape[2] - 4 * self.decoder.fine_channels
            fine = F.pixel_shuffle(features[:, features.shape[1] // 2, split:], 2)
            features = features[:, :, :split]
        cond = self.strl(features)
        caches = []
        for prior in priors:
            signal = None
            if prior is not None:
                signal = heatmaps_to_signal(prior.to(features.device).float(), self.signal_scale)
                signal = signal.to(self.inference_dtype)
            caches.append(self.decoder.prepare(cond, signal, fine))
        return caches

    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, cache: ConditionCache) -> torch.Tensor:
        """f_θ(x_t, 𝔽, t) → x0 signal (float32); x_t has B·N rows for a cache of B clips."""
        x_t = x_t.to(self.inference_dtype)
        if self.inference_dtype == torch.bfloat16:
            x_t = x_t.contiguous(memory_format=torch.channels_last)
        return self.decoder(x_t, t, cache).float()

    # ----- training (Algorithm 1) ------------------------------------------------------
    def loss(
        self,
        clips: torch.Tensor,
        heatmaps: torch.Tensor,
        joint_weights: torch.Tensor,
        generator: torch.Generator | None = None,
        prior: torch.Tensor | None = None,
        own_step_prob: float = 0.0,
        hard_joints: int = 0,
    ) -> torch.Tensor:
        """Eq. 6 MSE between predicted and target heatmaps, weighted per joint.

        Args:
            clips: (B, T, 3, H, W) ImageNet-normalised RGB.
            heatmaps: (B, K, h, w) Gaussian targets in [0, 1] (heatmap size).
            joint_weights: (B, K), 0 for joints the sample does not label.
            generator: for t ~ Uniform{0..T−1} and the noise ε.
            prior: (B, K, h, w) detector-pose heatmaps (models that refine it only).
            own_step_prob: share of the batch whose x_t is made as sampling makes it after
                a first step (:meth:`loss_from_features`).
            hard_joints: keep only each sample's that many hardest joints in the loss
                (:func:`joint_weighted_mse`); 0 keeps every joint.
        """
        return self.loss_from_features(
            self.clip_features(clips),
            heatmaps,
            joint_weights,
            generator,
            prior,
            own_step_prob,
            hard_joints,
        )

    def loss_from_features(
        self,
        features: torch.Tensor,
        heatmaps: torch.Tensor,
        joint_weights: torch.Tensor,
        generator: torch.Generator | None = None,
        prior: torch.Tensor | None = None,
        own_step_prob: float = 0.0,
        hard_joints: int = 0,
    ) -> torch.Tensor:
        """:meth:`loss` from precomputed (B, T, C, h, w) features (e.g. a frozen-backbone cache).

        ``own_step_prob``: for that share of the batch (drawn per sample), x_t is not the
        label noised (Eq. 1) but what DDIM sampling feeds the denoiser at its second step
        (:func:`~diffpose.diffusion.own_step_inputs`, which says why)."""
        b = features.shape[0]
        if heatmaps.shape != (b, self.num_keypoints, *self.heatmap_size):
            raise ValueError(f"heatmaps must be (B, K, {self.heatmap_size}), got {heatmaps.shape}")
        if joint_weights.shape != (b, self.num_keypoints):
            raise ValueError(f"joint_weights must be (B, K), got {tuple(joint_weights.shape)}")
        cache = self.condition(features, prior)
        x0 = heatmaps_to_signal(heatmaps, self.signal_scale)
        dev = features.device
        t = torch.randint(0, len(self.alphas_cumprod), (b,), generator=generator, device=dev)
        noise = torch.randn(x0.shape, generator=generator, device=dev, dtype=x0.dtype)
        x_t = q_sample(x0, t, self.alphas_cumprod, noise)  # Eq. 1
        if own_step_prob > 0:
            x_t = own_step_inputs(
                lambda x, t_, rows: self.denoise(x, t_, cache.rows(rows)),
                x_t,
                t,
                self.alphas_cumprod,
                own_step_prob,
                self.signal_scale,
                generator,
            )
        pred = signal_to_heatmaps(self.denoise(x_t, t, cache), self.signal_scale, clamp=False)
        per_joint = ((pred - heatmaps) ** 2).mean(dim=(-2, -1))  # (B, K)
        return joint_weighted_mse(per_joint, joint_weights.to(per_joint.dtype), hard_joints)

    # ----- inference (Algorithm 2) -----------------------------------------------------
    @torch.no_grad()
    def sample_heatmaps(
        self,
        features: torch.Tensor,
        steps: int = 4,
        ensemble: int = 10,
        generator: torch.Generator | None = None,
        eta: float = 0.0,
        noise: torch.Tensor | None = None,
        prior: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Denoise N noise draws per clip as one batch; (B, N, K, h, w) heatmaps in [0, 1].

        ``noise`` (N, K, h, w): the N starting draws x_T, shared by every clip (a stream
        draws them once instead of per clip); None draws fresh ones from ``generator``.
        ``prior`` (B, K, h, w): the detector's pose as heatmaps (models that refine it).
        """
        cache = self.condition(features, prior)
        return self._sample_from(cache, features, steps, ensemble, generator, eta, noise)

    def _sample_from(
        self,
        cache: ConditionCache,
        features: torch.Tensor,
        steps: int,
        ensemble: int,
        generator: torch.Generator | None,
        eta: float,
        noise: torch.Tensor | None,
    ) -> torch.Tensor:
        """:meth:`sample_heatmaps` from a condition already made for ``features``."""
        if ensemble < 1:
            raise ValueError(f"ensemble must be >= 1, got {ensemble}")
        b = features.shape[0]
        shape = (b * ensemble, self.num_keypoints, *self.heatmap_size)
        if noise is None:
            x_T = torch.randn(shape, generator=generator, device=features.device)
        elif noise.shape != (ensemble, *shape[1:]):
            raise ValueError(f"noise must be {(ensemble, *shape[1:])}, got {tuple(noise.shape)}")
        else:
            x_T = noise.to(features.device).expand(b, *noise.shape).reshape(shape)  # any dtype
        x0 = ddim_sample(
            lambda x, t: self.denoise(x, t, cache),
            x_T,
            self.alphas_cumprod,
            steps,
            eta=eta,
            clip=self.signal_scale,
            generator=generator,
        )
        return signal_to_heatmaps(x0, self.signal_scale).view(b, ensemble, *shape[1:])

    @torch.no_grad()
    def predict_from_features(
        self,
        features: torch.Tensor,
        steps: int = 4,
        ensemble: int = 10,
        generator: torch.Generator | None = None,
        flip_features: torch.Tensor | None = None,
        eta: float = 0.0,
        noise: torch.Tensor | None = None,
        prior: torch.Tensor | None = None,
        extra_priors: Sequence[torch.Tensor] = (),
        decoding: str = "quarter",
    ) -> PoseResult:
        """Poses from precomputed (B, T, C, h, w) features; ``flip_features`` (of the mirrored
        clips) enables the flip test; ``noise`` and ``prior`` as in :meth:`sample_heatmaps`;
        ``extra_priors``: more (B, K, h, w) priors of the same persons (another pass of the
        detector), each adding its own N members to the average; ``decoding``: how the
        averaged heatmaps become keypoints (:data:`diffpose.config.HEATMAP_DECODINGS`)."""
        priors = [prior, *extra_priors]
        with self._eval_mode():
            members = [
                self._sample_from(cache, features, steps, ensemble, generator, eta, noise)
                for cache in self.conditions(features, priors)
            ]
            if flip_features is not None:
                # the mirrored clip's priors: mirrored, sides swapped
                flip_priors = [
                    None if p is None else flip_heatmaps_back(p, self.prior_flip_permutation())
                    for p in priors
                ]
                for cache in self.conditions(flip_features, flip_priors):
                    flipped = self._sample_from(
                        cache, flip_features, steps, ensemble, generator, eta, noise
                    )
                    members.append(flip_heatmaps_back(flipped, flip_permutation()))
        return self._decode(torch.cat(members, 1), decoding)

    @torch.no_grad()
    def predict(
        self,
        clips: torch.Tensor,
        steps: int = 4,
        ensemble: int = 10,
        generator: torch.Generator | None = None,
        flip_test: bool = False,
        eta: float = 0.0,
        noise: torch.Tensor | None = None,
        prior: torch.Tensor | None = None,
        extra_priors: Sequence[torch.Tensor] = (),
        decoding: str = "quarter",
    ) -> PoseResult:
        """Key-frame poses of (B, T, 3, H, W) ImageNet-normalised clips (Algorithm 2).

        Args:
            steps: DDIM sampling steps (any number, no retraining; paper: 4).
            ensemble: N noise draws averaged in heatmap space (paper: 10).
            generator: seeds the noise draws.
            flip_test: also run the mirrored clips and average the flipped-back heatmaps.
            eta: DDIM stochasticity.
            noise: (N, K, h, w) starting draws shared by the clips (None: fresh draws).
            prior: (B, K, h, w) heatmaps of the detector's pose (models that refine it only).
            extra_priors, decoding: as in :meth:`predict_from_features`.
        """
        with self._eval_mode():
            features = self.clip_features(clips)
            flip = self.clip_features(clips.flip(-1)) if flip_test else None
        return self.predict_from_features(
            features, steps, ensemble, generator, flip, eta, noise, prior, extra_priors, decoding
        )

    @contextmanager
    def _eval_mode(self) -> Iterator[None]:
        """Eval mode for the block, then the previous mode (no module walk when already eval:
        the walk costs about a millisecond per call)."""
        if not self.training:
            yield
            return
        self.eval()
        try:
            yield
        finally:
            self.train()

    def _decode(self, members: torch.Tensor, decoding: str = "quarter") -> PoseResult:
        """(B, N, K, h, w) member heatmaps → averaged pose (decoded as ``decoding`` says),
        peak scores and member spread (the members always by the quarter shift)."""
        if decoding not in HEATMAP_DECODINGS:
            raise ValueError(f"decoding must be one of {HEATMAP_DECODINGS}, got {decoding!r}")
        mean = members.mean(dim=1)  # the paper averages the N predictions (§3.5)
        xy, scores = (decode_heatmaps_dark if decoding == "dark" else decode_heatmaps)(mean)
        member_xy = heatmap_to_crop_xy(decode_heatmaps(members)[0], self.stride)  # (B, N, K, 2)
        dev = member_xy - member_xy.mean(dim=1, keepdim=True)
        spread = dev.pow(2).sum(-1).mean(dim=1).sqrt()
        return PoseResult(
            keypoints_xy=heatmap_to_crop_xy(xy, self.stride).float().cpu().numpy(),
            scores=scores.float().cpu().numpy(),
            spread=spread.float().cpu().numpy(),
        )
