"""Image fingerprints on small synthetic pictures made here with Pillow."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from faisceau.normalise.images import ImageHashes, hamming, hash_image

# Below this many differing bits (of 64), two pictures are taken as the same photo.
SAME_PHOTO = 8


def hashed(path: Path) -> ImageHashes:
    """The fingerprints of a file, its own folder taken as the crawl folder."""
    return hash_image(path.parent, path.name)


def scene(kind: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A smooth synthetic picture: a gradient with two shapes. Kinds 0 and 1 differ."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        shade = y * 255 // height
        colour = (shade, 100 + shade // 3, 255 - shade) if kind == 0 else (255 - shade, 40, shade)
        draw.line([(0, y), (width, y)], fill=colour)
    if kind == 0:
        draw.ellipse([width // 8, height // 6, width // 2, height * 5 // 6], fill=(240, 200, 40))
        draw.rectangle(
            [width * 5 // 8, height // 4, width * 15 // 16, height // 2], fill=(20, 20, 120)
        )
    else:
        draw.rectangle(
            [width // 16, height * 5 // 8, width * 7 // 16, height], fill=(250, 250, 250)
        )
        draw.ellipse([width * 9 // 16, height // 12, width, height * 5 // 8], fill=(10, 90, 10))
    return image


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    scene(0).save(path)
    return path


def test_hashes_a_png(photo: Path) -> None:
    result = hashed(photo)
    assert result.error is None and result.ok
    assert result.sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert (result.width, result.height) == (320, 240)
    assert result.phash is not None and len(result.phash) == 16
    assert result.dhash is not None and len(result.dhash) == 16
    int(result.phash, 16), int(result.dhash, 16)  # hex
    assert result.path == "photo.png"  # as the ad wrote it


def test_same_file_same_hashes(photo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.png"
    copy.write_bytes(photo.read_bytes())
    a, b = hashed(photo), hashed(copy)
    assert (a.sha256, a.phash, a.dhash) == (b.sha256, b.phash, b.dhash)


def test_reencoded_resized_copy_is_close(photo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.jpg"
    scene(0).resize((160, 120)).save(copy, quality=60)
    a, b = hashed(photo), hashed(copy)
    assert a.sha256 != b.sha256
    assert a.phash and b.phash and a.dhash and b.dhash
    assert hamming(a.phash, b.phash) <= SAME_PHOTO
    assert hamming(a.dhash, b.dhash) <= SAME_PHOTO
    assert (b.width, b.height) == (160, 120)


def test_large_jpeg_decoded_in_draft_keeps_real_size_and_stays_close(
    photo: Path, tmp_path: Path
) -> None:
    big = tmp_path / "big.jpg"
    scene(0, (2400, 1800)).save(big, quality=85)
    result = hashed(big)
    assert (result.width, result.height) == (2400, 1800)
    reference = hashed(photo)
    assert result.phash and reference.phash
    assert hamming(result.phash, reference.phash) <= SAME_PHOTO


def test_different_picture_is_far(photo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.png"
    scene(1).save(other)
    a, b = hashed(photo), hashed(other)
    assert a.phash and b.phash and a.dhash and b.dhash
    assert hamming(a.phash, b.phash) > 3 * SAME_PHOTO
    assert hamming(a.dhash, b.dhash) > 2 * SAME_PHOTO


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    upright = scene(0)
    stored = upright.rotate(90, expand=True)  # what a phone stores...
    exif = Image.Exif()
    exif[0x0112] = 6  # ...with "rotate 90° clockwise to display"
    rotated_path = tmp_path / "rotated.jpg"
    stored.save(rotated_path, quality=95, exif=exif)
    upright_path = tmp_path / "upright.jpg"
    upright.save(upright_path, quality=95)
    a, b = hashed(rotated_path), hashed(upright_path)
    assert a.phash and b.phash
    assert hamming(a.phash, b.phash) <= SAME_PHOTO
    assert (a.width, a.height) == (240, 320)  # the file's own size


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "1", "CMYK"])
def test_other_modes_hash(tmp_path: Path, mode: str) -> None:
    path = tmp_path / ("image.jpg" if mode == "CMYK" else "image.png")
    scene(0).convert(mode).save(path)
    result = hashed(path)
    assert result.error is None
    assert result.phash is not None


def test_animated_gif_uses_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    first, second = scene(0).convert("P"), scene(1).convert("P")
    first.save(path, save_all=True, append_images=[second], duration=100)
    still = tmp_path / "still.png"
    scene(0).save(still)
    a, b = hashed(path), hashed(still)
    assert a.phash and b.phash
    assert hamming(a.phash, b.phash) <= SAME_PHOTO


def test_missing_file(tmp_path: Path) -> None:
    result = hash_image(tmp_path, "photos/photo.jpg")
    assert result == ImageHashes("photos/photo.jpg", error="missing")
    assert not result.ok
    assert hash_image(tmp_path / "nonexistent", "photo.jpg").error == "missing"


def test_truncated_file_is_corrupt(tmp_path: Path) -> None:
    whole = tmp_path / "whole.jpg"
    scene(0).save(whole, quality=90)
    data = whole.read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(data[: len(data) // 2])
    result = hashed(truncated)
    assert result.error is not None and result.error.startswith("corrupt: ")
    assert result.sha256 == hashlib.sha256(data[: len(data) // 2]).hexdigest()
    assert result.phash is None and result.dhash is None and result.width is None


@pytest.mark.parametrize(
    "content",
    [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"\xff\xd8\xff" + b"junk"],
)
def test_not_an_image_is_corrupt(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fake.jpg"
    path.write_bytes(content)
    result = hashed(path)
    assert result.error is not None and result.error.startswith("corrupt: ")
    assert result.phash is None


def test_directory_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    result = hash_image(tmp_path, "photos")
    assert result == ImageHashes("photos", error="refused: not a regular file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_no_permission_is_unreadable(photo: Path) -> None:
    photo.chmod(0)
    try:
        result = hashed(photo)
    finally:
        photo.chmod(0o644)
    assert result.error is not None and result.error.startswith("unreadable: ")


@given(st.binary(max_size=2048))
def test_never_raises_on_arbitrary_bytes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("bytes") / "x.jpg"
    path.write_bytes(data)
    result = hashed(path)
    assert (result.error is None) == (result.phash is not None)


def test_hamming() -> None:
    assert hamming("0000000000000000", "0000000000000000") == 0
    assert hamming("0000000000000000", "ffffffffffffffff") == 64
    assert hamming("f0", "0f") == 8
    assert hamming("A1", "a1") == 0
    with pytest.raises(ValueError):
        hamming("00", "000")


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
def test_hamming_is_a_distance(a: int, b: int) -> None:
    ha, hb = f"{a:016x}", f"{b:016x}"
    assert hamming(ha, hb) == hamming(hb, ha) == bin(a ^ b).count("1")
    assert hamming(ha, ha) == 0
