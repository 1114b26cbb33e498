"""An image file's displayed size from its header alone (JPEG, PNG, BMP), without decoding it.

Used to tell a folder of photos from a video's frames (:mod:`posetool.io.inputs`) at the cost of
reading a few hundred bytes per file. Pillow is not used for this: ultralytics replaces
``PIL.Image.open`` with a version that, on a file Pillow cannot identify, tries to install a
HEIF plugin from the network.

The size is as displayed: a JPEG whose EXIF orientation is 5–8 (rotated by 90°) has its width
and height swapped, as OpenCV's ``imread`` decodes it.
"""

from __future__ import annotations

import struct
from pathlib import Path

__all__ = ["image_size"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: JPEG start-of-frame markers (0xC4 DHT, 0xC8 JPG and 0xCC DAC are not frames).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_EXIF_ORIENTATION_TAG = 0x0112
#: Bytes of a JPEG scanned for its frame header before giving up (the header follows the
#: EXIF and other metadata segments, which are skipped by their length, not scanned).
_MAX_SCAN_BYTES = 1 << 16


def image_size(path: str | Path) -> tuple[int, int] | None:
    """(width, height) in pixels as displayed, or None where the header cannot be read (not a
    JPEG, PNG or BMP, truncated, unreadable)."""
    try:
        with open(path, "rb") as f:
            head = f.read(32)
            if head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR":
                width, height = struct.unpack(">II", head[16:24])
                return _positive(width, height)
            if head.startswith(b"BM") and struct.unpack("<I", head[14:18])[0] >= 40:
                width, height = struct.unpack("<ii", head[18:26])
                return _positive(width, abs(height))  # a negative height: stored top-down
            if head.startswith(b"\xff\xd8"):
                f.seek(2)
                return _jpeg_size(f)
    except (OSError, ValueError, struct.error):
        return None
    return None


def _positive(width: int, height: int) -> tuple[int, int] | None:
    return (int(width), int(height)) if width > 0 and height > 0 else None


def _jpeg_size(f) -> tuple[int, int] | None:
    orientation = 1
    scanned = 0
    while scanned < _MAX_SCAN_BYTES:
        byte = f.read(1)
        if not byte:
            return None
        if byte != b"\xff":
            scanned += 1
            continue
        marker = f.read(1)
        while marker == b"\xff":  # fill bytes
            marker = f.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in (0x01, 0xD8) or 0xD0 <= code <= 0xD7:  # no length
            continue
        if code in (0xD9, 0xDA):  # end of image, start of scan: no frame header before it
            return None
        (length,) = struct.unpack(">H", f.read(2))
        if length < 2:  # a segment's length counts its own two bytes
            return None
        data = f.read(length - 2)
        if code == 0xE1 and data.startswith(b"Exif\x00\x00"):
            orientation = _exif_orientation(data[6:])
        elif code in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[1:5])
            if orientation in (5, 6, 7, 8):
                width, height = height, width
            return _positive(width, height)
    return None


def _exif_orientation(tiff: bytes) -> int:
    """The orientation tag of a TIFF block's first IFD; 1 (upright) where absent or broken."""
    try:
        order = {b"II": "<", b"MM": ">"}[tiff[:2]]
        (ifd,) = struct.unpack(order + "I", tiff[4:8])
        (count,) = struct.unpack(order + "H", tiff[ifd : ifd + 2])
        for i in range(count):
            entry = tiff[ifd + 2 + 12 * i : ifd + 14 + 12 * i]
            tag, kind = struct.unpack(order + "HH", entry[:4])
            if tag == _EXIF_ORIENTATION_TAG and kind == 3:  # SHORT
                return struct.unpack(order + "H", entry[8:10])[0]
    except (KeyError, struct.error):
        pass
    return 1
