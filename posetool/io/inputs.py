"""What a run's inputs are: video files, image-sequence folders and photos found in the
files, folders (searched recursively) and glob patterns a user names.

A folder of images is one video's frames, or a folder of photos, each image an input of its
own, posed alone (a tracker across unrelated photos drops most of their persons: it starts a
track only for a person it sees twice). The run may say which (``stills``); otherwise a
folder is photos when no single image size holds more than half of its images (a video's
frames share one size; a folder of frames with a few odd images stays frames, and the odd
ones are named in a warning), or when neighbouring images of its common size do not look
alike as a video's frames do (:mod:`posetool.io.frame_likeness`). Images named by a glob ending
in an image suffix (``shots/*.jpg``) are photos.

Files are ordered naturally (``img2`` before ``img10``); hidden files (``.DS_Store``,
AppleDouble ``._clip.mp4``) are never inputs. What posetool wrote is never an input either:
a folder search skips the run's output folder, overlay videos (``NAME.overlay.mp4``) and the
videos a ``NAME.summary.json`` beside them lists among its outputs (overlays of older
versions were named ``NAME.mp4``). A folder reached twice (a symlink loop) is searched once.
"""

from __future__ import annotations

import glob
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from posetool.io.frame_likeness import neighbours_look_alike
from posetool.io.image_size import image_size

__all__ = [
    "IMAGE_FOLDER_FPS",
    "IMAGE_SUFFIXES",
    "OVERLAY_SUFFIX",
    "VIDEO_SUFFIXES",
    "discover_inputs",
    "image_files",
    "images_are_photos",
    "photo_folder_reason",
    "SIZES_DIFFER",
    "UNLIKE_NEIGHBOURS",
]

LOG = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset(
    {
        ".mp4",
        ".m4v",
        ".mov",
        ".avi",
        ".mkv",
        ".webm",
        ".mpg",
        ".mpeg",
        ".wmv",
        ".flv",
        ".ts",
        ".mts",
        ".m2ts",
        ".3gp",
        ".ogv",
    }
)
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})
#: Frame rate assumed for an image folder, which carries none: the pipeline's, the viewer's, and
#: a PoseTrack file's read without its video (its frames' times).
IMAGE_FOLDER_FPS = 30.0
#: The overlay video of an output ``NAME`` is ``NAME.overlay.mp4``.
OVERLAY_SUFFIX = ".overlay.mp4"


def _natural_key(path: Path) -> list[int | str]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")  # .DS_Store, AppleDouble ._clip.mp4


def image_files(folder: Path) -> list[Path]:
    """Image files of a folder (not recursive), naturally sorted (``img2`` before ``img10``)."""
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and _visible(p)]
    return sorted((p for p in files if p.is_file()), key=_natural_key)


#: Why a folder's images are photos (:func:`photo_folder_reason`).
SIZES_DIFFER = "photos of different sizes"
UNLIKE_NEIGHBOURS = "photos of one size whose neighbours do not look like a video's frames"


def photo_folder_reason(folder: Path, images: Sequence[Path]) -> str | None:
    """Why a folder's images are unrelated photos rather than a video's frames, or None:
    :data:`SIZES_DIFFER` when no single size (as displayed, from the headers:
    :func:`posetool.io.image_size.image_size`) holds more than half of them;
    :data:`UNLIKE_NEIGHBOURS` when one does but neighbouring images of that size do not look
    alike as a video's frames do (:func:`posetool.io.frame_likeness.neighbours_look_alike`: a
    folder of photos that share one size, e.g. 640x480). Images whose header cannot be read
    are not counted (they fail later, alone); where a majority size leaves some images out
    of a video, those are named in a warning."""
    sizes = {path: size for path in images if (size := image_size(path)) is not None}
    if not sizes:
        return None
    (common, count), *_ = Counter(sizes.values()).most_common(1)
    if 2 * count <= len(sizes):
        LOG.warning(
            "%s: its %d images come in %d sizes, so they are not one video's frames: each is "
            "posed as a photo of its own (--frames reads them as one video)",
            folder,
            len(images),
            len(set(sizes.values())),
        )
        return SIZES_DIFFER
    if not neighbours_look_alike([p for p, size in sizes.items() if size == common]):
        LOG.warning(
            "%s: %d of its %d images are %dx%d, but neighbouring ones do not look alike as a "
            "video's frames do: each image is posed as a photo of its own (--frames reads "
            "them as one video)",
            folder,
            count,
            len(sizes),
            *common,
        )
        return UNLIKE_NEIGHBOURS
    odd = [f"{p.name} ({w}x{h})" for p, (w, h) in sizes.items() if (w, h) != common]
    if odd:
        LOG.warning(
            "%s: read as one video's frames (%d of %d images are %dx%d), though %s differ "
            "(--stills poses each image alone)",
            folder,
            count,
            len(sizes),
            *common,
            ", ".join(odd[:3]) + (f" and {len(odd) - 3} more" if len(odd) > 3 else ""),
        )
    return None


def images_are_photos(folder: Path, images: Sequence[Path]) -> bool:
    """Whether a folder's images are unrelated photos rather than a video's frames
    (:func:`photo_folder_reason`)."""
    return photo_folder_reason(folder, images) is not None


def _written_videos(folder: Path) -> set[Path]:
    """Videos that the ``*.summary.json`` files of ``folder`` list as posetool's outputs."""
    written: set[Path] = set()
    for summary in folder.glob("*.summary.json"):
        try:
            outputs = json.loads(summary.read_text(encoding="utf-8")).get("outputs", {})
            written.update(Path(p).resolve() for p in outputs.values() if isinstance(p, str))
        except (OSError, ValueError, AttributeError, TypeError):
            continue  # not a summary of ours
    return written


class _Search:
    """One folder search: the folders already searched (symlink loops) and what to skip."""

    def __init__(self, output_dir: Path | None, stills: bool | None) -> None:
        self.output_dir = output_dir.resolve() if output_dir is not None else None
        self.stills = stills
        self.seen: set[Path] = set()

    def expand(self, folder: Path) -> list[Path]:
        real = folder.resolve()
        if real in self.seen:
            return []
        self.seen.add(real)
        found: list[Path] = []
        images = image_files(folder)
        if images:
            photos = self.stills if self.stills is not None else images_are_photos(folder, images)
            if photos:
                found.extend(images)
            else:
                found.append(folder)
        written = _written_videos(folder)
        for child in sorted(folder.iterdir(), key=_natural_key):
            if not _visible(child):
                continue
            if child.is_dir():
                if child.resolve() != self.output_dir:
                    found.extend(self.expand(child))
            elif self.is_input_video(child, written):
                found.append(child)
        return found

    @staticmethod
    def is_input_video(path: Path, written: set[Path]) -> bool:
        return (
            path.suffix.lower() in VIDEO_SUFFIXES
            and path.is_file()
            and _visible(path)
            and not path.name.lower().endswith(OVERLAY_SUFFIX)
            and path.resolve() not in written
        )


def discover_inputs(
    paths: Iterable[str | Path], output_dir: Path | None = None, stills: bool | None = None
) -> list[Path]:
    """Expand files, folders (recursively) and globs into video files, image folders and
    photos.

    A folder holding images is one image-sequence input or one input per image (photos;
    ``stills`` and module doc); video files anywhere below are inputs of their own (a
    PoseTrack folder that also holds its .mp4 gives both). Files met while expanding a glob
    are kept with a video suffix, or with an image suffix where the glob itself ends in one;
    a file named explicitly is kept whatever its suffix, so opening it fails with a clear
    error later.

    Args:
        paths: Paths or glob patterns (``**`` recurses).
        output_dir: The run's output folder: not searched when met inside a folder named
            here (the folder named itself is searched, minus posetool's outputs).
        stills: True: every image folder holds photos; False: a video's frames; None:
            decided per folder by its image sizes and content (module doc).

    Returns:
        Inputs in the order given, sorted within each folder or glob, without duplicates.

    Raises:
        FileNotFoundError: A path that does not exist or a glob that matches nothing.
    """
    found: list[Path] = []
    search = _Search(output_dir, stills)
    for item in paths:
        text = str(item)
        if glob.has_magic(text):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            if not matches:
                raise FileNotFoundError(f"no file matches the pattern '{text}'")
            images_named = Path(text).suffix.lower() in IMAGE_SUFFIXES
            for match in matches:
                if match.is_dir():
                    found.extend(search.expand(match))
                elif search.is_input_video(match, _written_videos(match.parent)) or (
                    images_named and match.is_file() and _visible(match)
                ):
                    found.append(match)
        else:
            path = Path(item)
            if path.is_dir():
                found.extend(search.expand(path))
            elif path.exists():
                found.append(path)
            else:
                raise FileNotFoundError(f"input '{path}' does not exist")
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())
