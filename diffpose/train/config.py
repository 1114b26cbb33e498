"""The optimisation settings of a training run (paper defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field

from diffpose.data.transforms import AugmentConfig

__all__ = ["TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (paper defaults)."""

    epochs: int = 60
    lr: float = 5e-4
    milestones: tuple[int, ...] = (20, 40)
    gamma: float = 0.1
    weight_decay: float = 1e-4
    batch_size: int = 32
    workers: int = 0
    seed: int = 0
    val_every: int = 5
    feature_cache: int = 0
    val_steps: int = 2
    val_ensemble: int = 2
    max_samples: int = 0
    amp: bool = True
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    lower_body_weight: float = 1.0
    arm_weight: float = 1.0
    ema_decay: float = 0.0
    own_step_prob: float = 0.0
    hard_joints: int = 0
    prior_collapse_prob: float = 0.0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("epochs and batch_size must be >= 1 and lr > 0")
        if self.feature_cache < 0 or self.val_every < 0 or self.workers < 0:
            raise ValueError("feature_cache, val_every and workers must be >= 0")
        if list(self.milestones) != sorted(self.milestones):
            raise ValueError(f"milestones must increase, got {self.milestones}")
        if self.lower_body_weight <= 0:
            raise ValueError(f"lower_body_weight must be > 0, got {self.lower_body_weight}")
        if self.arm_weight <= 0:
            raise ValueError(f"arm_weight must be > 0, got {self.arm_weight}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if not 0.0 <= self.own_step_prob <= 1.0:
            raise ValueError(f"own_step_prob must be in [0, 1], got {self.own_step_prob}")
        if not 0.0 <= self.prior_collapse_prob <= 1.0:
            raise ValueError(
                f"prior_collapse_prob must be in [0, 1], got {self.prior_collapse_prob}"
            )
        if self.hard_joints < 0:
            raise ValueError(f"hard_joints must be >= 0, got {self.hard_joints}")
