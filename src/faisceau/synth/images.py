"""Synthetic photos: small deterministic pictures, and the altered copies ads reuse.

A photo is drawn from its id alone; a variant is the same picture re-encoded, cropped or
resized, as happens when a photo is reposted or stolen by another ad.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

SIZE = (96, 128)


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def draw_photo(photo_id: int) -> Image.Image:
    rng = random.Random(photo_id)
    img = Image.new("RGB", SIZE, _colour(rng))
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x, y = rng.randrange(SIZE[0]), rng.randrange(SIZE[1])
        w, h = rng.randrange(10, 60), rng.randrange(10, 60)
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + w, y + h), fill=_colour(rng))
        else:
            draw.rectangle((x, y, x + w, y + h), fill=_colour(rng))
    return img


def write_photo(path: Path, photo_id: int, variant: str) -> None:
    """Write photo ``photo_id`` as ``variant``: orig, reencoded, cropped or resized."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = draw_photo(photo_id)
    quality = 90
    if variant == "reencoded":
        quality = 55
    elif variant == "cropped":
        w, h = img.size
        img = img.crop((4, 5, w - 4, h - 5))
    elif variant == "resized":
        img = img.resize((72, 96))
    img.save(path, "JPEG", quality=quality)
