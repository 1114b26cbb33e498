"""posetool.io.image_size: an image's displayed size from its header, as OpenCV decodes it."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from posetool.io.image_size import image_size


def _exif_app1(orientation: int, order: str) -> bytes:
    """An APP1 segment holding a little- or big-endian TIFF IFD with one orientation entry."""
    endian = "<" if order == "II" else ">"
    ifd = struct.pack(endian + "H", 1) + struct.pack(endian + "HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff = order.encode() + struct.pack(endian + "HI", 42, 8) + ifd + struct.pack(endian + "I", 0)
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".bmp"])
def test_the_header_size_is_the_decoded_size(tmp_path: Path, suffix: str) -> None:
    image = np.zeros((37, 53, 3), np.uint8)
    image[5:20, 10:40] = 200
    path = tmp_path / f"a{suffix}"
    cv2.imwrite(str(path), image)
    assert image_size(path) == (53, 37)


@pytest.mark.parametrize(("orientation", "order"), [(1, "II"), (6, "II"), (8, "MM"), (3, "MM")])
def test_an_exif_rotation_by_90_degrees_swaps_width_and_height(
    tmp_path: Path, orientation: int, order: str
) -> None:
    ok, jpeg = cv2.imencode(".jpg", np.full((30, 70, 3), 128, np.uint8))
    assert ok
    data = jpeg.tobytes()
    path = tmp_path / "rotated.jpg"
    path.write_bytes(data[:2] + _exif_app1(orientation, order) + data[2:])
    decoded = cv2.imread(str(path))  # OpenCV applies the EXIF orientation
    assert image_size(path) == (decoded.shape[1], decoded.shape[0])
    assert image_size(path) == ((30, 70) if orientation in (6, 8) else (70, 30))


def test_progressive_and_padded_jpegs(tmp_path: Path) -> None:
    """A progressive JPEG (SOF2) and one with fill bytes and a restart marker before the
    frame header are read as well."""
    image = np.zeros((41, 23, 3), np.uint8)
    ok, progressive = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert ok
    path = tmp_path / "progressive.jpg"
    path.write_bytes(progressive.tobytes())
    assert image_size(path) == (23, 41)
    ok, plain = cv2.imencode(".jpg", image)
    data = plain.tobytes()
    padded = tmp_path / "padded.jpg"
    padded.write_bytes(data[:2] + b"\xff\xff\xff\xd0" + data[2:])
    assert image_size(padded) == (23, 41)


def test_malformed_headers_give_none_not_an_error(tmp_path: Path) -> None:
    """Segment lengths 0 and 1, an EXIF block pointing outside itself, a PNG without its
    IHDR, a zero-sized PNG and a BMP with a short header: None (or, for the broken EXIF,
    the size unrotated), never an exception."""
    ok, jpeg = cv2.imencode(".jpg", np.zeros((9, 13, 3), np.uint8))
    data = jpeg.tobytes()
    cases = {
        "len0.jpg": b"\xff\xd8\xff\xe0\x00\x00" + data[2:],
        "len1.jpg": b"\xff\xd8\xff\xe0\x00\x01" + data[2:],
        "noihdr.png": b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dJUNK" + b"\x00" * 16,
        "zero.png": b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\x00" * 16,
        "short.bmp": b"BM" + b"\x00" * 12 + struct.pack("<I", 12) + b"\x00" * 8,
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        assert image_size(tmp_path / name) is None, name
    tiff = b"II" + struct.pack("<HI", 42, 4000)  # IFD offset beyond the block
    body = b"Exif\x00\x00" + tiff
    broken = tmp_path / "broken_exif.jpg"
    broken.write_bytes(data[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + data[2:])
    assert image_size(broken) == (13, 9)


def test_unreadable_headers_give_none(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.jpg"
    ok, jpeg = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))
    truncated.write_bytes(jpeg.tobytes()[:12])
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    for path in (empty, truncated, text, tmp_path / "absent.jpg"):
        assert image_size(path) is None, path
