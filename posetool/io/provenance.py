"""What an output was made from, and whether posetool may replace it.

Every ``NAME.summary.json`` the batch runner writes carries a ``posetool`` key (the writer and
its version), the run's ``status`` ("running" until the outputs are complete, then "ok", or
"failed"), ``made_from`` (the input's identity and the settings that change the outputs) and
``output_sha256`` (the digest of each output file as written). From these:

- ``--resume`` skips an input only when its summary says "ok", was made from the same input,
  settings and code (:func:`code_identity`: a posetool whose pipeline changed, even at the
  same version number, makes its outputs again), and every output is still the file
  posetool wrote;
- an existing output is replaced only when posetool wrote it and nobody changed it since
  (its digest still matches) and it holds no person edited by hand (``human_edited``);
  anything else needs ``--overwrite``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from posetool import __version__

__all__ = [
    "PROVENANCE_KEY",
    "code_identity",
    "file_identity",
    "input_identity",
    "provenance",
    "read_summary",
    "refusal_reason",
    "resumable",
    "settings_identity",
    "sha256_of_file",
]

PROVENANCE_KEY = "posetool"
#: Bytes of an input hashed to notice a changed file whose size and mtime were kept.
HEAD_BYTES = 1 << 20
#: Config fields that do not change what is written (tested bit for bit, or output choice).
_NEUTRAL_FIELDS = ("threads", "pipelined", "render")


def provenance(kind: str) -> dict[str, str]:
    """The mark of a file posetool wrote: ``{"writer": "posetool <version>", "kind": kind}``."""
    return {"writer": f"posetool {__version__}", "kind": kind}


def sha256_of_file(path: Path, limit_bytes: int = 0) -> str:
    """Hex SHA-256 of a file (of its first ``limit_bytes`` when > 0), read in chunks."""
    digest, left = hashlib.sha256(), limit_bytes or -1
    with open(path, "rb") as handle:
        while left and (chunk := handle.read(1 << 20 if left < 0 else min(left, 1 << 20))):
            digest.update(chunk)
            left -= len(chunk) if left > 0 else 0
    return digest.hexdigest()


def file_identity(path: Path, full_hash: bool = False) -> dict[str, Any]:
    """Resolved path, size, mtime and the SHA-256 of the first MiB (or of all of it)."""
    stat = path.stat()
    key = "sha256" if full_hash else "sha256_first_mib"
    return {
        "path": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        key: sha256_of_file(path, 0 if full_hash else HEAD_BYTES),
    }


def input_identity(path: Path) -> dict[str, Any]:
    """A video file's identity; for an image folder, a digest of its images' names, sizes
    and mtimes."""
    if not path.is_dir():
        return file_identity(path)
    from posetool.io.inputs import image_files

    listing = hashlib.sha256()
    images = image_files(path)
    for image in images:
        stat = image.stat()
        listing.update(f"{image.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return {
        "path": str(path.resolve()),
        "images": len(images),
        "listing_sha256": listing.hexdigest(),
    }


def settings_identity(config) -> dict[str, Any]:
    """The settings of a :class:`~posetool.run.pipeline_config.PipelineConfig` that change the outputs:
    all but threads/pipelining/render, with the checkpoint and detector weights by content,
    ``precision: auto`` resolved (it depends on the CPU), and the code that runs them
    (:func:`code_identity`)."""
    from diffpose.precision import resolve_precision
    from diffpose.yolo_weights import default_weights_path

    settings = {k: v for k, v in asdict(config).items() if k not in _NEUTRAL_FIELDS}
    weights = Path(config.detector_weights) if config.detector_weights else default_weights_path()
    for key, path in (
        ("pose_checkpoint_file", config.pose.checkpoint_path()),
        ("detector_weights_file", weights),
    ):
        # a missing file fails later, when the models load, with its own message
        settings[key] = file_identity(path, True) if path.is_file() else {"path": str(path)}
    settings["code_sha256"] = code_identity()
    settings["resolved_precision"] = {
        stage: str(resolve_precision(cfg.precision, cfg.device)).removeprefix("torch.")
        for stage, cfg in (("pose", config.pose), ("detector", config.detector))
    }
    return json.loads(json.dumps(settings))  # as it reads back from JSON (lists, not tuples)


#: The packages whose code decides what the pipeline writes.
_CODE_PACKAGES = ("posetool", "diffpose", "trackers")


@lru_cache(maxsize=1)
def code_identity() -> str:
    """SHA-256 over the Python sources of posetool, diffpose and trackers as installed (their
    paths relative to the package and their bytes), with posetool's version and the number of
    sources read, once per process. The version number alone does not say it: a development
    install changes between commits without a new version, and a changed pipeline (another
    box rule, the duplicate suppression) writes other poses from the same settings. Hidden
    files (an editor's ``.#name.py`` lock, a dangling link) and anything that is not a
    readable file are left out; an install without sources (bytecode only) is told apart by
    its version alone."""
    import importlib

    digest = hashlib.sha256(f"posetool {__version__}\0".encode())
    read = 0
    for name in _CODE_PACKAGES:
        root = Path(importlib.import_module(name).__file__).parent
        for source in sorted(root.rglob("*.py")):
            relative = source.relative_to(root)
            if any(part.startswith(".") for part in relative.parts) or not source.is_file():
                continue
            try:
                text = source.read_bytes()
            except OSError:
                continue
            digest.update(f"{name}/{relative.as_posix()}\0".encode() + text + b"\0")
            read += 1
    digest.update(f"{read} sources".encode())
    return digest.hexdigest()


def read_summary(path: Path) -> dict[str, Any] | None:
    """A summary posetool wrote (it carries the provenance key), else None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) and PROVENANCE_KEY in data else None


_EDITED = re.compile(rb'"human_edited"\s*:\s*true')


def _human_edited_persons(path: Path) -> int:
    """How many annotations of a PoseTrack file say ``human_edited: true``, counted on the
    bytes in chunks (a long video's JSON is never loaded whole)."""
    count, tail = 0, b""
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            buffer = tail + chunk
            count += sum(m.end() > len(tail) for m in _EDITED.finditer(buffer))
            tail = buffer[-64:]
    return count


def refusal_reason(paths: dict[str, Path], made_from: dict[str, Any] | None = None) -> str:
    """Why the existing outputs ``paths`` (json, video, summary) must not be replaced without
    ``--overwrite``; "" when replacing them loses nothing.

    Args:
        paths: The output files of one input (:func:`posetool.batch.outputs.output_paths`).
        made_from: This run's input identity; outputs made from another input (same name,
            other folder) are kept too.
    """
    existing = {k: p for k, p in paths.items() if p.exists()}
    outputs = {k: p for k, p in existing.items() if k != "summary"}
    summary = read_summary(paths["summary"])
    if summary is None:
        if not existing:
            return ""
        return _edited_reason(outputs) or (
            f"{next(iter(existing.values()))} was not written by posetool "
            f"(no '{PROVENANCE_KEY}' summary beside it)"
        )
    recorded_input = ((summary.get("made_from") or {}).get("input") or {}).get("path")
    if (
        outputs
        and made_from is not None
        and recorded_input not in (None, made_from["input"]["path"])
    ):
        return f"{paths['summary']} holds the outputs of another input, '{recorded_input}'"
    digests = summary.get("output_sha256") or {}
    for path in (p for k, p in outputs.items() if digests.get(k) != sha256_of_file(p)):
        return _edited_reason(outputs) or f"{path} changed since posetool wrote it"
    return ""  # every output is exactly as the batch wrote it (which never marks edits)


def _edited_reason(outputs: dict[str, Path]) -> str:
    if "json" in outputs and (edited := _human_edited_persons(outputs["json"])):
        return f"{outputs['json']} holds {edited} person(s) edited by hand (human_edited)"
    return ""


def resumable(paths: dict[str, Path], made_from: dict[str, Any], render: bool) -> bool:
    """Whether a previous run completed these outputs from the same input and settings, and
    they are still as written."""
    summary = read_summary(paths["summary"])
    if summary is None or summary.get("status") != "ok" or summary.get("made_from") != made_from:
        return False
    needed = ["json", "video"] if render else ["json"]
    digests = summary.get("output_sha256") or {}
    return all(paths[k].is_file() and digests.get(k) == sha256_of_file(paths[k]) for k in needed)
