"""What a batch run records: ``NAME.summary.json`` per input, kept current as its outputs are
written, and ``run_summary.json`` for the whole run; and the summary of an input that is not
run (skipped as complete by ``resume``, refused, unreadable) or that failed. The runner
(:mod:`posetool.batch.runner`) and the Ray engine's driver and workers
(:mod:`posetool.batch.ray_engine`) keep the same records.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from posetool.batch.outputs import output_paths
from posetool.io.provenance import (
    PROVENANCE_KEY,
    input_identity,
    provenance,
    read_summary,
    refusal_reason,
    resumable,
    sha256_of_file,
)
from posetool.run.pipeline import VideoSummary

__all__ = [
    "BatchSummary",
    "SummaryFile",
    "failed_summary",
    "not_run_summary",
    "recorded_run",
    "save_quietly",
]

logger = logging.getLogger(__name__)


@dataclass
class BatchSummary:
    """The whole run: one :class:`VideoSummary` per input ("ok", "failed", "skipped" as
    complete by ``resume``, or "refused": outputs kept that only ``overwrite`` replaces)."""

    videos: list[VideoSummary] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return sum(v.status == "failed" for v in self.videos)

    @property
    def refused(self) -> int:
        return sum(v.status == "refused" for v in self.videos)

    def to_dict(self) -> dict:
        ok = [v for v in self.videos if v.status == "ok"]
        return {
            PROVENANCE_KEY: provenance("run-summary"),
            "inputs": len(self.videos),
            "ok": len(ok),
            "failed": self.failed,
            "skipped": sum(v.status == "skipped" for v in self.videos),
            "refused": self.refused,
            "frames": sum(v.frames for v in ok),
            "persons": sum(v.persons for v in ok),
            "tracks": sum(v.tracks for v in ok),
            "duplicate_poses_dropped": sum(v.duplicate_poses_dropped for v in ok),
            "seconds": round(self.seconds, 3),
            "videos": [asdict(v) for v in self.videos],
        }


class SummaryFile:
    """``NAME.summary.json`` kept current as the outputs of one input are written."""

    def __init__(self, paths: dict[str, Path], made_from: dict[str, Any]) -> None:
        self.paths = paths
        self.made_from = made_from
        old = read_summary(paths["summary"]) or {}
        # files a previous run wrote and nobody changed stay vouched for until replaced
        self.digests = {
            k: v
            for k, v in (old.get("output_sha256") or {}).items()
            if k in paths and paths[k].is_file() and sha256_of_file(paths[k]) == v
        }

    def wrote(self, key: str) -> None:
        self.digests[key] = sha256_of_file(self.paths[key])

    def save(self, summary: VideoSummary) -> None:
        from posetool.io.posetrack_io import atomic_write_text

        doc = {
            PROVENANCE_KEY: provenance("video-summary"),
            **asdict(summary),
            "made_from": self.made_from,
            "output_sha256": self.digests,
        }
        atomic_write_text(self.paths["summary"], json.dumps(doc, indent=1))


@contextmanager
def recorded_run(out_dir: Path, batch: BatchSummary) -> Iterator[BatchSummary]:
    """Time the run and write ``run_summary.json`` when it ends; when it stops on an error
    (Ctrl-C included), what was done so far, if the folder still takes it."""
    from posetool.io.posetrack_io import atomic_write_text

    start = time.perf_counter()
    try:
        yield batch
    except BaseException:
        batch.seconds = time.perf_counter() - start
        try:
            atomic_write_text(out_dir / "run_summary.json", json.dumps(batch.to_dict(), indent=1))
        except OSError:
            logger.debug("cannot write the run summary to %s", out_dir, exc_info=True)
        raise
    batch.seconds = time.perf_counter() - start
    atomic_write_text(out_dir / "run_summary.json", json.dumps(batch.to_dict(), indent=1))


def not_run_summary(
    path: Path,
    name: str,
    out_dir: Path,
    settings: dict,
    resume: bool,
    overwrite: bool,
    render: bool,
) -> tuple[VideoSummary | None, dict]:
    """The summary of an input that is not run (skipped as complete, refused, unreadable),
    or None; and what its outputs would be made from (``settings``:
    :func:`~posetool.io.provenance.settings_identity`)."""
    paths = output_paths(out_dir, name)
    try:
        made_from = {"input": input_identity(path), "settings": settings}
    except OSError as exc:
        return VideoSummary(
            str(path), name, status="failed", error=f"cannot read the input: {exc}"
        ), {}
    if resume and resumable(paths, made_from, render):
        return VideoSummary(str(path), name, status="skipped", error="complete"), made_from
    if not overwrite and (reason := refusal_reason(paths, made_from)):
        return VideoSummary(
            str(path),
            name,
            status="refused",
            error=f"kept: {reason}; pass --overwrite to replace it",
        ), made_from
    return None, made_from


def failed_summary(path: Path, name: str, exc: BaseException) -> VideoSummary:
    """The summary of an input that failed with ``exc`` (the error names its type)."""
    return VideoSummary(str(path), name, status="failed", error=f"{type(exc).__name__}: {exc}")


def save_quietly(record: SummaryFile, summary: VideoSummary) -> None:
    """Record a failure in the summary when the folder still takes it."""
    try:
        record.save(summary)
    except OSError:
        logger.debug("cannot record the failure of %s", summary.input, exc_info=True)
