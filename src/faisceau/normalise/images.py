"""Image fingerprints: the exact file and what the picture looks like.

Owns ``hash_image(crawl_dir, path)``, the only way normalisation reads an image: ``path`` is
what an ad's ``images[].path`` says, relative to the crawl folder (the ingested file's own
directory, as the contract says). Whoever controls a crawl controls that string, so the file
is opened only inside the crawl folder (``open_in_crawl``):

- an absolute path, or one with a ``..`` component, is refused as written;
- the path is resolved one component at a time from the folder (itself resolved), and each
  symbolic link on the way must resolve inside the folder; then the file is opened from the
  folder's descriptor one component at a time, following no link (``O_NOFOLLOW``), so a
  link swapped in after the check cannot lead out;
- only a regular file is opened (checked before opening, so a FIFO cannot block and a device
  is never opened, and again on the opened descriptor), and at most ``max_bytes`` + 1 bytes
  are read (``data/images.toml``).

A refused path answers ``REFUSED_OUTSIDE`` whatever exists outside, and carries no hash: the
answer tells nothing of the files outside the crawl folder.

``hash_image`` never raises: every result carries either the fingerprints or an ``error``
saying why there are none ("missing", "unreadable: ...", "refused: ...", "corrupt: ..."), so
one bad file never stops a batch. ``sha256`` is the file's bytes (the same file re-posted);
``phash`` and ``dhash`` are perceptual hashes from ``imagehash`` (64 bits, as hex): a
re-encoded, resized or lightly cropped copy of a photo stays within a few bits, which is how
ads re-using the same photos are linked. ``hamming`` counts the bits two hashes differ by.

Pictures are hashed as shown: the EXIF orientation is applied first, since sites and phones
re-save rotated copies. Only the formats sites serve are decoded (``formats``); large JPEGs
are decoded at reduced scale (Pillow's ``draft``), since the hashes only look at a 32x32
thumbnail, and a picture still above ``max_pixels`` once reduced is not decoded at all;
``width`` and ``height`` stay those of the file.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import tomllib
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import imagehash
from PIL import Image, ImageOps

# Decoding never needs more than this: phash reads a 32x32 thumbnail, dhash 9x8.
_DRAFT_SIZE = (256, 256)

REFUSED_OUTSIDE = "refused: outside the crawl folder"
REFUSED_NOT_A_FILE = "refused: not a regular file"

# Directories are walked without reading them (O_PATH where the system has it); nothing
# is followed, and nothing is inherited by a child process.
_DIR_FLAGS = (getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW
              | os.O_CLOEXEC)
# O_NONBLOCK: should a FIFO be swapped in after the check, opening it does not wait for a
# writer (the descriptor is then refused as not a regular file).
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


@dataclass(frozen=True)
class ImageLimits:
    """What an image file may be (``data/images.toml``)."""

    max_bytes: int
    max_pixels: int
    formats: tuple[str, ...]


def _load_limits() -> ImageLimits:
    data = tomllib.loads(resources.files("faisceau.normalise").joinpath(
        "data", "images.toml").read_text("utf-8"))
    return ImageLimits(int(data["max_bytes"]), int(data["max_pixels"]),
                       tuple(str(f) for f in data["formats"]))


LIMITS = _load_limits()


class Refused(Exception):
    """A path or file that is not read; the message is what the ad's image records."""


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


def hash_image(crawl_dir: Path, path: str) -> ImageHashes:
    """Fingerprints of the image ``path`` names in the crawl folder ``crawl_dir``, or the
    reason there are none. Never raises."""
    try:
        data = read_in_crawl(crawl_dir, path, LIMITS.max_bytes)
    except Refused as refused:
        return ImageHashes(path, error=str(refused))
    except FileNotFoundError:
        return ImageHashes(path, error="missing")
    except OSError as exc:
        return ImageHashes(path, error=f"unreadable: {exc.strerror or exc}")
    return fingerprint(path, data)


def read_in_crawl(crawl_dir: Path, path: str, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path`` names inside ``crawl_dir``: at most
    ``max_bytes``, else ``Refused``. ``Refused`` too for a path that leads out of the
    folder, whatever is there; ``OSError`` for a file inside that cannot be read."""
    fd = open_in_crawl(crawl_dir, path)
    with open(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Refused(f"refused: larger than {max_bytes} bytes")
    return data


def open_in_crawl(crawl_dir: Path, path: str) -> int:
    """A descriptor open for reading on the regular file ``path`` names inside
    ``crawl_dir`` (see the module's docstring); the caller closes it."""
    root = os.path.realpath(crawl_dir)
    inside = _resolve_inside(root, _relative_parts(path))
    if not inside or _names_a_folder(path):
        raise Refused(REFUSED_NOT_A_FILE)
    folder = os.open(root, _DIR_FLAGS)
    try:
        for name in inside[:-1]:
            child = _step(name, folder, _DIR_FLAGS)
            os.close(folder)
            folder = child
        mode = os.stat(inside[-1], dir_fd=folder, follow_symlinks=False).st_mode
        if stat.S_ISLNK(mode):  # resolution said there was none: swapped in since
            raise Refused(REFUSED_OUTSIDE)
        if not stat.S_ISREG(mode):  # a FIFO, a device, a socket or a directory: not opened
            raise Refused(REFUSED_NOT_A_FILE)
        fd = _step(inside[-1], folder, _FILE_FLAGS)
    finally:
        os.close(folder)
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # changed since the check above
        os.close(fd)
        raise Refused(REFUSED_NOT_A_FILE)
    return fd


def _relative_parts(path: str) -> list[str]:
    """The components of a path an ad gave, refused as written when it leaves the folder
    (absolute, ``..``) or cannot name a file (a NUL, text that is not a file name)."""
    if os.path.isabs(path) or "\x00" in path:
        raise Refused(REFUSED_OUTSIDE)
    try:
        os.fsencode(path)
    except UnicodeError as exc:
        raise Refused(REFUSED_OUTSIDE) from exc
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise Refused(REFUSED_OUTSIDE)
    return parts


def _resolve_inside(root: str, parts: list[str]) -> list[str]:
    """The components, from ``root``, of the path ``parts`` lead to, each symbolic link on
    the way resolved; ``Refused`` as soon as one leads out of ``root``, even to come back."""
    current = root
    for name in parts:
        candidate = os.path.join(current, name)
        if os.path.islink(candidate):
            candidate = os.path.realpath(candidate)
            if os.path.commonpath([root, candidate]) != root:
                raise Refused(REFUSED_OUTSIDE)
        current = candidate
    return [] if current == root else os.path.relpath(current, root).split(os.sep)


def _names_a_folder(path: str) -> bool:
    """Whether ``path`` is written as a folder's ("sub/", "photo.jpg/."), as for the system."""
    return path.endswith(("/", "/.")) or path == "."


def _step(name: str, folder: int, flags: int) -> int:
    """Open ``name`` in ``folder``; a symbolic link found there (resolution said there was
    none: it was swapped in, or loops) is refused as leading out."""
    try:
        return os.open(name, flags, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused(REFUSED_OUTSIDE) from exc
        raise


def fingerprint(name: str, data: bytes) -> ImageHashes:
    """Fingerprints of the bytes of one image file, or why there are none."""
    sha256 = hashlib.sha256(data).hexdigest()
    if not data:
        return ImageHashes(name, sha256=sha256, error="corrupt: empty file")
    try:
        with warnings.catch_warnings():
            # A huge image is a decompression-bomb *warning* below Pillow's hard limit; the
            # pixel cap below decides, and the warning must not become an exception.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=LIMITS.formats) as image:
                width, height = image.size
                image.draft("L", _DRAFT_SIZE)  # JPEG only: grey, at 1/2..1/8 scale
                decoded = image.size[0] * image.size[1]
                if decoded > LIMITS.max_pixels:
                    return ImageHashes(name, sha256=sha256,
                                       error=f"refused: larger than {LIMITS.max_pixels} pixels")
                image.load()  # decodes now, so a truncated file fails here
                shown = ImageOps.exif_transpose(image)
                phash = str(imagehash.phash(shown))
                dhash = str(imagehash.dhash(shown))
    except Image.UnidentifiedImageError:
        return ImageHashes(name, sha256=sha256, error="corrupt: not a picture in a format "
                           "sites serve (" + ", ".join(LIMITS.formats) + ")")
    except Exception as exc:  # Pillow raises many types for bad files; all mean "corrupt"
        reason = str(exc) or type(exc).__name__
        return ImageHashes(name, sha256=sha256, error=f"corrupt: {reason}")
    return ImageHashes(name, sha256=sha256, phash=phash, dhash=dhash, width=width, height=height)


def hamming(a_hex: str, b_hex: str) -> int:
    """Number of bits two hex hashes of the same length differ by."""
    if len(a_hex) != len(b_hex):
        raise ValueError(f"hashes of different lengths: {len(a_hex)} and {len(b_hex)}")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()
