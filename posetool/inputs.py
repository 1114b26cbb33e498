"""What a run's inputs are: video files and image-sequence folders found in the files,
folders (searched recursively) and glob patterns a user names.

Files are ordered naturally (``img2`` before ``img10``); hidden files (``.DS_Store``,
AppleDouble ``._clip.mp4``) are never inputs.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterable
from pathlib import Path

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "discover_inputs", "image_files"]

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts",
     ".mts", ".m2ts", ".3gp", ".ogv"}
)  # fmt: skip
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})


def _natural_key(path: Path) -> list[int | str]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")  # .DS_Store, AppleDouble ._clip.mp4


def image_files(folder: Path) -> list[Path]:
    """Image files of a folder (not recursive), naturally sorted (``img2`` before ``img10``)."""
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and _visible(p)]
    return sorted((p for p in files if p.is_file()), key=_natural_key)


def _expand_folder(folder: Path) -> list[Path]:
    found: list[Path] = []
    if image_files(folder):
        found.append(folder)
    for child in sorted(folder.iterdir(), key=_natural_key):
        if not _visible(child):
            continue
        if child.is_dir():
            found.extend(_expand_folder(child))
        elif child.suffix.lower() in VIDEO_SUFFIXES and child.is_file():
            found.append(child)
    return found


def discover_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files, folders (recursively) and globs into video files and image folders.

    A folder holding images is one image-sequence input; video files anywhere below are
    inputs of their own (a PoseTrack folder that also holds its .mp4 gives both). Files met
    while expanding a folder or glob are kept only with a video suffix; a file named
    explicitly is kept whatever its suffix, so opening it fails with a clear error later.

    Args:
        paths: Paths or glob patterns (``**`` recurses).

    Returns:
        Inputs in the order given, sorted within each folder or glob, without duplicates.

    Raises:
        FileNotFoundError: A path that does not exist or a glob that matches nothing.
    """
    found: list[Path] = []
    for item in paths:
        text = str(item)
        if glob.has_magic(text):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            if not matches:
                raise FileNotFoundError(f"no file matches the pattern '{text}'")
            for match in matches:
                if match.is_dir():
                    found.extend(_expand_folder(match))
                elif match.suffix.lower() in VIDEO_SUFFIXES and _visible(match):
                    found.append(match)
        else:
            path = Path(item)
            if path.is_dir():
                found.extend(_expand_folder(path))
            elif path.exists():
                found.append(path)
            else:
                raise FileNotFoundError(f"input '{path}' does not exist")
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())
