"""Image fingerprints: the exact file and what the picture looks like.

Owns ``hash_image``, which never raises: every result carries either the fingerprints or an
``error`` saying why there are none ("missing", "unreadable: ...", "corrupt: ..."), so one
bad file never stops a batch. ``sha256`` is the file's bytes (the same file re-posted);
``phash`` and ``dhash`` are perceptual hashes from ``imagehash`` (64 bits, as hex): a
re-encoded, resized or lightly cropped copy of a photo stays within a few bits, which is how
ads re-using the same photos are linked. ``hamming`` counts the bits two hashes differ by.

Pictures are hashed as shown: the EXIF orientation is applied first, since sites and phones
re-save rotated copies. Large JPEGs are decoded at reduced scale (Pillow's ``draft``), since
the hashes only look at a 32x32 thumbnail; ``width`` and ``height`` stay those of the file.
"""

from __future__ import annotations

import hashlib
import io
import pathlib
import warnings
from dataclasses import dataclass

import imagehash
from PIL import Image, ImageOps

# Decoding never needs more than this: phash reads a 32x32 thumbnail, dhash 9x8.
_DRAFT_SIZE = (256, 256)


@dataclass(frozen=True)
class ImageHashes:
    """Fingerprints of one image file; ``error`` is set when there are none."""

    path: str
    sha256: str | None = None
    phash: str | None = None
    dhash: str | None = None
    width: int | None = None
    height: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def hash_image(path: pathlib.Path) -> ImageHashes:
    """Fingerprints of the image at ``path``, or the reason there are none. Never raises."""
    name = str(path)
    try:
        data = pathlib.Path(path).read_bytes()
    except FileNotFoundError:
        return ImageHashes(name, error="missing")
    except IsADirectoryError:
        return ImageHashes(name, error="unreadable: is a directory")
    except OSError as exc:
        return ImageHashes(name, error=f"unreadable: {exc.strerror or exc}")
    sha256 = hashlib.sha256(data).hexdigest()
    if not data:
        return ImageHashes(name, sha256=sha256, error="corrupt: empty file")
    try:
        with warnings.catch_warnings():
            # A huge image is a decompression-bomb *warning* below Pillow's hard limit; it
            # is still an image to hash, and the warning must not become an exception.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                image.draft("L", _DRAFT_SIZE)  # JPEG only: grey, at 1/2..1/8 scale
                image.load()  # decodes now, so a truncated file fails here
                shown = ImageOps.exif_transpose(image)
                phash = str(imagehash.phash(shown))
                dhash = str(imagehash.dhash(shown))
    except Exception as exc:  # Pillow raises many types for bad files; all mean "corrupt"
        reason = str(exc) or type(exc).__name__
        return ImageHashes(name, sha256=sha256, error=f"corrupt: {reason}")
    return ImageHashes(name, sha256=sha256, phash=phash, dhash=dhash, width=width, height=height)


def hamming(a_hex: str, b_hex: str) -> int:
    """Number of bits two hex hashes of the same length differ by."""
    if len(a_hex) != len(b_hex):
        raise ValueError(f"hashes of different lengths: {len(a_hex)} and {len(b_hex)}")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()
