"""Uploaded media as the fake Bot API stores and describes them: image dimensions read from
PNG, JPEG, GIF and WebP headers, the `PhotoSize` ladder Telegram answers for a photo, and a
registry of file ids so a bot can resend a file by its id.

Telegram refuses photos it cannot decode (`IMAGE_PROCESS_FAILED`) and photos whose width plus
height exceeds 10000 or whose sides differ by more than 20 times (`PHOTO_INVALID_DIMENSIONS`).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

from tests.fakes.telegram_types import UploadedFile, bad_request

# Longest side of each size Telegram derives from a photo ("s", "m", "x", "y", "w").
PHOTO_SIDES = (90, 320, 800, 1280, 2560)
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCF})


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) in pixels from the image header, or None when it is no known image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data[:6] in {b"GIF87a", b"GIF89a"} and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data[:4] == b"RIFF" and data[8:16] == b"WEBPVP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def _scaled(width: int, height: int, side: int) -> tuple[int, int]:
    longest = max(width, height)
    return max(1, width * side // longest), max(1, height * side // longest)


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file the fake holds: what kind of object it became and its result JSON."""

    kind: str
    upload: UploadedFile
    json: Any


class MediaStore:
    """File ids for uploaded photos and documents; ids are stable per content."""

    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}

    def _ids(self, data: bytes, tag: str) -> tuple[str, str]:
        digest = hashlib.sha256(data).hexdigest()[:16]
        return f"{tag}-{digest}", f"u{tag}{digest[:8]}"

    def store_photo(self, upload: UploadedFile) -> list[dict[str, Any]]:
        """The `PhotoSize` list (smallest first) for an uploaded image, or a 400."""
        size = image_size(upload.data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        sizes: list[dict[str, Any]] = []
        longest = max(width, height)
        for side in PHOTO_SIDES:
            w, h = _scaled(width, height, side) if longest > side else (width, height)
            file_id, unique = self._ids(upload.data, f"photo{side}")
            sizes.append({"file_id": file_id, "file_unique_id": unique, "width": w, "height": h})
            if longest <= side:
                break
        sizes[-1]["file_size"] = len(upload.data)
        for entry in sizes:
            self._files[entry["file_id"]] = StoredFile("photo", upload, sizes)
        return sizes

    def store_document(self, upload: UploadedFile) -> dict[str, Any]:
        """The `Document` object for an uploaded file."""
        file_id, unique = self._ids(upload.data, "doc")
        document = {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_name": upload.filename,
            "mime_type": upload.content_type,
            "file_size": len(upload.data),
        }
        self._files[file_id] = StoredFile("document", upload, document)
        return document

    def resend(self, file_id: str, kind: str) -> Any:
        """The stored JSON for a file sent again by id, or Telegram's 400 for a wrong id."""
        stored = self._files.get(file_id)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request(f"can't use file of type {stored.kind} as {kind}")
        return stored.json

    def get(self, file_id: str) -> StoredFile | None:
        """The stored file for an id, if the fake issued it."""
        return self._files.get(file_id)
