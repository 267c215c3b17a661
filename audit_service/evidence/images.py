"""What an uploaded file really is: sniffed from its bytes, then decoded in full.

The declared content type and the file name are never trusted: a text file renamed ``.jpg``
is refused (415), a truncated or corrupt image is refused (422), and so is an image whose
pixel count exceeds Pillow's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from audit_service.core.errors import InvalidInput, UnsupportedMedia

# content type -> Pillow format name
ACCEPTED: dict[str, str] = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
ACCEPTED_LIST = ", ".join(ACCEPTED)


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


def sniff(data: bytes) -> str | None:
    """The content type the magic bytes announce, if it is one we accept."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def unsupported(what: str = "file") -> UnsupportedMedia:
    return UnsupportedMedia(
        f"{what} is not an accepted image type; accepted: {ACCEPTED_LIST} "
        "(detected from the file's content, not its name or declared type)",
        extra={"accepted": list(ACCEPTED)},
    )


def _bomb(width: int, height: int, limit: int) -> InvalidInput:
    return InvalidInput(
        f"image is {width}x{height} = {width * height} pixels, over the limit of {limit} "
        "pixels (decompression-bomb guard); resize it before uploading",
        field="file",
    )


def inspect(data: bytes) -> ImageInfo:
    """Sniff and fully decode ``data``; raise 415 / 422 errors the client can act on."""
    content_type = sniff(data)
    if content_type is None:
        raise unsupported()
    limit = Image.MAX_IMAGE_PIXELS
    try:
        # Only the sniffed format's decoder may run: no fallback to other Pillow plugins.
        with Image.open(io.BytesIO(data), formats=[ACCEPTED[content_type]]) as img:
            width, height = img.size
            if limit is not None and width * height > limit:
                raise _bomb(width, height, limit)
            img.load()  # decode every pixel: truncated or corrupt data fails here
    except Image.DecompressionBombError as exc:
        raise InvalidInput(
            f"image is over the limit of {limit} pixels (decompression-bomb guard); "
            "resize it before uploading",
            field="file",
        ) from exc
    except InvalidInput:
        raise
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, ... on bad data
        raise InvalidInput(
            f"file does not decode as an image: it starts like {content_type} but is "
            "truncated or corrupt; upload the complete original file",
            field="file",
        ) from exc
    if width < 1 or height < 1:
        raise InvalidInput("file does not decode as an image: it has no pixels", field="file")
    return ImageInfo(content_type, width, height)
