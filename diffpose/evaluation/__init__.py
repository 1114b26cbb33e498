"""PoseTrack evaluation (per-joint AP and MOTA), computed as the official poseval does."""

from diffpose.evaluation.evaluate import EvaluationResult, evaluate_paths, evaluate_videos
from diffpose.evaluation.frames import EvaluationInputError
from diffpose.evaluation.report import format_result

__all__ = [
    "EvaluationInputError",
    "EvaluationResult",
    "evaluate_paths",
    "evaluate_videos",
    "format_result",
]
