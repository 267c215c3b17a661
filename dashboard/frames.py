"""A camera frame with its zones drawn over it (PIL). Plain functions, no Streamlit.

Zones are polygons in relative (0-1) frame coordinates (``GET /cameras/{id}/zones``), so they
scale to whatever picture they go on: the latest snapshot, or a blank frame of its size.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageDraw, ImageFont

DEFAULT_SIZE = (1280, 720)  # when neither a snapshot nor its size is known
ZONE_COLORS = {"counter": (46, 134, 222), "queue": (240, 147, 43)}  # staff side / customers
BLANK = (38, 41, 46)


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


def blank_frame(size: tuple[int, int] = DEFAULT_SIZE) -> Image.Image:
    width, height = size
    return Image.new("RGB", (max(1, width), max(1, height)), BLANK)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size only
        return ImageFont.load_default()


def draw_zones(
    image: Image.Image, zones: list[dict[str, Any]], counter_codes: dict[int, str]
) -> Image.Image:
    """A copy of ``image`` with each zone's outline, a translucent fill and its label."""
    frame = image.convert("RGBA")
    overlay = Image.new("RGBA", frame.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(overlay)
    width, height = frame.size
    line = max(2, round(min(width, height) / 240))
    font = _font(max(12, round(min(width, height) / 32)))
    for zone in zones:
        points = [(x * width, y * height) for x, y in zone["polygon"]]
        if len(points) < 3:
            continue
        color = ZONE_COLORS.get(zone["kind"], (200, 200, 200))
        pen.polygon(points, fill=(*color, 60), outline=(*color, 255), width=line)
        counter = counter_codes.get(int(zone.get("counter_id") or 0), "")
        text = f"{zone['code']} ({counter})" if counter else zone["code"]
        left = min(x for x, _ in points)
        top = min(y for _, y in points)
        box = pen.textbbox((left + line * 2, top + line * 2), text, font=font)
        pen.rectangle(box, fill=(0, 0, 0, 160))
        pen.text((left + line * 2, top + line * 2), text, fill=(255, 255, 255, 255), font=font)
    return Image.alpha_composite(frame, overlay).convert("RGB")
