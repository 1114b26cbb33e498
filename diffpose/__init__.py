"""DiffPose: spatio-temporal diffusion model for video-based human pose estimation.

Feng et al., ICCV 2023 (shared/papers/diffpose-iccv2023.md).
"""

__version__ = "0.1.0"
