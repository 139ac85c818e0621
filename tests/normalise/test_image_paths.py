"""Image paths stay inside the crawl folder, whatever an ad says.

An ad's ``images[].path`` is written by whoever controls the crawl (a site, a collector, an
archive received from another service). What the store keeps, and shows every reader, must
only ever be the fingerprint of a picture in the crawl folder (the ingested file's own
directory, as the contract says). What users rely on: a path that leaves the folder (absolute,
with ``..``, through a symbolic link) is refused with one answer that does not depend on what
exists outside, and no hash of it is kept; only regular files are read (a FIFO, a device, a
socket or a directory is refused without being opened for reading); a file larger than the
cap is refused without being read whole; a picture whose decoded size is absurd, or in a
format no ad uses, is never decoded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import threading
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.normalise import images
from faisceau.normalise.ad import normalise_ad
from faisceau.normalise.images import ImageHashes
from faisceau.store import open_store
from faisceau.store.engine import alembic_config
from tests.conftest import run_faisceau

OUTSIDE = "refused: outside the crawl folder"
NOT_A_FILE = "refused: not a regular file"
LIMITS = tomllib.loads(resources.files("faisceau.normalise").joinpath(
    "data", "images.toml").read_text("utf-8"))


def _png(path: Path, colour: tuple[int, int, int] = (200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (64, 48), colour)
    image.paste((20, 20, 200), (8, 8, 40, 30))
    image.save(path)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path]:
    """A crawl folder and, beside it, a folder the crawl must never reach."""
    crawl, outside = tmp_path / "crawl", tmp_path / "outside"
    _png(crawl / "photo.png")
    _png(crawl / "sub" / "photo.png", (10, 120, 10))
    _png(outside / "secret.png", (1, 2, 3))
    (outside / "secret.txt").write_text("mot de passe", encoding="utf-8")
    (crawl / "alias.png").symlink_to(crawl / "photo.png")  # a link within the crawl
    (crawl / "relative-alias.png").symlink_to("sub/photo.png")
    (crawl / "link-out.png").symlink_to(outside / "secret.png")
    (crawl / "link-out-missing.png").symlink_to(outside / "nothing.png")
    (crawl / "link-dir").symlink_to(outside)
    (crawl / "link-up").symlink_to("..")
    return crawl, outside


def image_of(crawl: Path, path: str) -> ImageHashes:
    """What ingest keeps of an ad's only image."""
    ((_position, _item, hashes),) = normalise_ad({"images": [{"path": path}]}, crawl).images
    assert hashes is not None
    return hashes


def _no_fingerprint(result: ImageHashes) -> bool:
    return (result.sha256, result.phash, result.dhash, result.width,
            result.height) == (None,) * 5


# --- Inside the crawl ----------------------------------------------------------------------


def test_paths_inside_the_crawl_are_hashed(world: tuple[Path, Path]) -> None:
    crawl, _ = world
    photo, sub = _sha(crawl / "photo.png"), _sha(crawl / "sub" / "photo.png")
    for path, expected in (("photo.png", photo), ("./photo.png", photo),
                           ("sub/photo.png", sub), ("sub//photo.png", sub),
                           ("alias.png", photo), ("relative-alias.png", sub)):
        result = image_of(crawl, path)
        assert result.ok and result.sha256 == expected, path
        assert (result.width, result.height) == (64, 48)
    assert image_of(crawl, "nothing.png").error == "missing"


def test_the_crawl_folder_may_be_given_relative_or_through_a_link(
        world: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crawl, _ = world
    (tmp_path / "crawl-link").symlink_to(crawl)
    monkeypatch.chdir(crawl)
    assert image_of(Path("."), "photo.png").sha256 == _sha(crawl / "photo.png")
    assert image_of(tmp_path / "crawl-link", "sub/photo.png").ok
    assert image_of(tmp_path / "crawl-link", "link-out.png").error == OUTSIDE


# --- Outside the crawl: one answer, no hash -------------------------------------------------


def _escapes(crawl: Path, outside: Path) -> list[str]:
    deep = "../" * (len(crawl.parts) + 3)
    return [
        "../outside/secret.png", "../outside/nothing.png", "../outside/secret.txt",
        str(outside / "secret.png"), str(outside / "nothing.png"),
        "/etc/hostname", "/etc/shadow", "/nonexistent/faisceau.png", "/",
        f"{deep}etc/hostname", f"{deep}etc/shadow", f"{deep}nonexistent",
        "sub/../../outside/secret.png", "sub/../photo.png", "..", "../crawl/photo.png",
        "link-out.png", "link-out-missing.png", "link-dir/secret.png", "link-dir/nothing.png",
        "link-dir", "link-up/outside/secret.png", "link-up/crawl/photo.png",
        "//etc/hostname", "photo.png/../../outside/secret.png",
    ]


def test_paths_that_leave_the_crawl_are_refused_alike(world: tuple[Path, Path]) -> None:
    crawl, outside = world
    for path in _escapes(crawl, outside):
        result = image_of(crawl, path)
        # The same answer whether the target exists, is readable, is an image or not.
        assert result.error == OUTSIDE, path
        assert _no_fingerprint(result), path


def test_a_link_to_a_device_or_special_file_outside_is_refused_unread(
        world: tuple[Path, Path]) -> None:
    crawl, _ = world
    for name, target in (("zero.jpg", "/dev/zero"), ("random.jpg", "/dev/urandom"),
                         ("tty.jpg", "/dev/tty"), ("proc.jpg", "/proc/self/environ")):
        (crawl / name).symlink_to(target)
        for path in (name, target):
            result = image_of(crawl, path)
            assert result.error == OUTSIDE and _no_fingerprint(result), path


def test_nothing_an_ad_writes_in_a_path_raises_or_escapes(world: tuple[Path, Path]) -> None:
    crawl, _ = world
    for path in ("photo.png\x00.jpg", "\x00", "a" * 5_000, "sub/" * 2_000 + "x", "\udc80.png",
                 "~/photo.png", "photo.png/", "sub/photo.png/.", "%2e%2e/outside/secret.png"):
        result = image_of(crawl, path)
        assert result.error is not None and _no_fingerprint(result), path


SEGMENTS = st.sampled_from(["..", ".", "", "sub", "photo.png", "secret.png", "outside",
                            "link-dir", "link-up", "link-out.png", "alias.png", "crawl",
                            "etc", "hostname", "\x00", "~", "..."])


@given(parts=st.lists(SEGMENTS, max_size=8), absolute=st.booleans())
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_path_gives_a_crawl_file_or_an_error(world: tuple[Path, Path], parts: list[str],
                                                 absolute: bool) -> None:
    crawl, outside = world
    inside = {_sha(p) for p in crawl.rglob("*.png") if p.is_file()}
    outside_hashes = {_sha(p) for p in outside.iterdir()}
    path = ("/" if absolute else "") + "/".join(parts)
    assume(path)  # an image without a path is not read
    result = image_of(crawl, path)
    assert result.sha256 is None or result.sha256 in inside, path
    assert result.sha256 not in outside_hashes
    if absolute or ".." in parts:
        assert result.error == OUTSIDE, path


def test_a_link_swapped_in_after_the_check_is_not_followed(
        world: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The race a collector writing into the crawl could run: the path is checked, then a
    file or folder on it becomes a link out before it is opened."""
    crawl, outside = world
    _png(outside / "photo.png", (4, 5, 6))
    resolve = images._resolve_inside

    def racing(root: str, parts: list[str]) -> list[str]:
        found = resolve(root, parts)
        swapped = crawl / parts[0]
        if swapped.is_dir():
            shutil.rmtree(swapped)
        else:
            swapped.unlink()
        swapped.symlink_to(outside / "photo.png" if len(parts) == 1 else outside)
        return found

    monkeypatch.setattr(images, "_resolve_inside", racing)
    swapped_file = image_of(crawl, "photo.png")
    assert swapped_file.error == OUTSIDE and _no_fingerprint(swapped_file)
    swapped_folder = image_of(crawl, "sub/photo.png")  # "not a directory", or a refusal
    assert swapped_folder.error is not None and _no_fingerprint(swapped_folder)


# --- Only regular files, bounded -------------------------------------------------------------


def _in_thread(crawl: Path, path: str) -> ImageHashes:
    """``image_of``, guarded: reading a FIFO the old way blocks for ever."""
    out: list[ImageHashes] = []
    worker = threading.Thread(target=lambda: out.append(image_of(crawl, path)), daemon=True)
    worker.start()
    worker.join(60)
    assert out, f"reading {path!r} never returned"
    return out[0]


def test_only_regular_files_are_read(world: tuple[Path, Path]) -> None:
    crawl, _ = world
    os.mkfifo(crawl / "fifo.jpg")
    (crawl / "fifo-link.jpg").symlink_to("fifo.jpg")
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(crawl / "socket.jpg"))
    try:
        for path in ("fifo.jpg", "fifo-link.jpg", "socket.jpg", "sub", ".", "sub/", "alias.png/"):
            result = _in_thread(crawl, path)
            assert result.error == NOT_A_FILE and _no_fingerprint(result), path
    finally:
        listening.close()


def test_a_file_larger_than_the_cap_is_refused_unhashed(world: tuple[Path, Path]) -> None:
    crawl, _ = world
    cap = int(LIMITS["max_bytes"])
    with open(crawl / "huge.jpg", "wb") as handle:  # sparse: no disk used
        handle.truncate(cap + 1)
    with open(crawl / "at-cap.jpg", "wb") as handle:
        handle.truncate(cap)
    huge = image_of(crawl, "huge.jpg")
    assert huge.error == f"refused: larger than {cap} bytes" and _no_fingerprint(huge)
    at_cap = image_of(crawl, "at-cap.jpg")  # read, then found not to be a picture
    assert at_cap.error is not None and at_cap.error.startswith("corrupt: ")
    assert at_cap.sha256 == hashlib.sha256(bytes(cap)).hexdigest()


def test_a_picture_too_large_to_decode_is_refused(world: tuple[Path, Path]) -> None:
    crawl, _ = world
    pixels = int(LIMITS["max_pixels"])
    side = int(pixels ** 0.5) + 2
    Image.new("1", (side, side)).save(crawl / "bomb.png")  # a few kB of file
    result = image_of(crawl, "bomb.png")
    assert result.error == f"refused: larger than {pixels} pixels"
    assert result.phash is None and result.sha256 == _sha(crawl / "bomb.png")


def test_a_large_jpeg_is_decoded_reduced_and_hashed(world: tuple[Path, Path]) -> None:
    crawl, _ = world
    side = int(int(LIMITS["max_pixels"]) ** 0.5) + 2
    Image.new("L", (side, side), 90).save(crawl / "big.jpg", quality=50)
    result = image_of(crawl, "big.jpg")
    assert result.ok and (result.width, result.height) == (side, side)


@pytest.mark.parametrize("fmt", ["JPEG", "MPO", "PNG", "WEBP", "GIF", "AVIF", "BMP"])
def test_the_formats_sites_serve_are_hashed(world: tuple[Path, Path], fmt: str) -> None:
    crawl, _ = world
    first, second = Image.new("RGB", (64, 48), (200, 10, 10)), Image.new("RGB", (64, 48))
    first.paste((20, 20, 200), (8, 8, 40, 30))
    first.save(crawl / f"image.{fmt.lower()}", format=fmt,
               **({"save_all": True, "append_images": [second]} if fmt == "MPO" else {}))
    result = image_of(crawl, f"image.{fmt.lower()}")
    assert result.ok and (result.width, result.height) == (64, 48), result


@pytest.mark.parametrize("name", ["image.tiff", "image.eps", "image.pcx", "image.sgi"])
def test_formats_no_ad_uses_are_never_decoded(world: tuple[Path, Path], name: str) -> None:
    crawl, _ = world
    path = crawl / name
    if name.endswith(".eps"):
        path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\nshowpage\n%%EOF\n")
    else:
        Image.new("RGB", (32, 32), (5, 6, 7)).save(path)
    result = image_of(crawl, name)
    assert result.error is not None and result.error.startswith("corrupt: "), result
    assert result.phash is None and result.sha256 == _sha(path)


# --- Through the command ------------------------------------------------------------------


def _ad(ad_id: str, paths: list[str]) -> dict[str, Any]:
    return {"source": "exemple", "ad_id": ad_id, "seen_at": "2026-03-02T08:00:00Z",
            "title": "Annonce", "text": "Bonjour, rendez-vous à Lyon.",
            "images": [{"path": p} for p in paths]}


def test_ingest_keeps_no_hash_of_a_file_outside_the_crawl(store_env: dict[str, str],
                                                          world: tuple[Path, Path]) -> None:
    crawl, outside = world
    deep = "../" * (len(crawl.parts) + 3)
    hostname = Path("/etc/hostname")
    paths = ["photo.png", "../outside/secret.png", str(outside / "secret.png"),
             "/etc/hostname", f"{deep}etc/hostname", f"{deep}etc/shadow", "link-out.png",
             "link-dir/secret.png", "link-out-missing.png", "../outside/nothing.png"]
    (crawl / "ads.jsonl").write_text(json.dumps(_ad("a1", paths)) + "\n", encoding="utf-8")
    run_faisceau(["ingest", "ads", str(crawl / "ads.jsonl")], store_env)
    shown = run_faisceau(["ads", "show", "exemple", "a1"], store_env).stdout
    images = json.loads(shown)["versions"][0]["images"]
    assert [i["path"] for i in images] == paths  # what the ad said is kept as it said it
    assert images[0]["sha256"] == _sha(crawl / "photo.png") and images[0]["error"] is None
    for image in images[1:]:
        assert image["error"] == OUTSIDE, image
        assert (image["sha256"], image["phash"], image["dhash"]) == (None, None, None)
    secrets = {_sha(outside / "secret.png"), _sha(outside / "secret.txt")}
    if hostname.is_file() and os.access(hostname, os.R_OK):
        secrets.add(_sha(hostname))
    assert not any(s in shown for s in secrets)


# --- A store filled before the rule ---------------------------------------------------------


def test_an_upgraded_store_keeps_no_hash_of_a_path_outside_the_crawl(
        store_settings: Settings, world: tuple[Path, Path]) -> None:
    """What ingest stored before this rule (the hash of the file an ad named, wherever it
    was, or whether it existed) is replaced by today's answer when the store is opened."""
    crawl, _ = world
    paths = ["photo.png", "../outside/secret.png", "/etc/hostname", "sub/../photo.png",
             "a..b.png", "/nonexistent.png"]
    (crawl / "ads.jsonl").write_text(json.dumps(_ad("a1", paths)) + "\n", encoding="utf-8")
    store = open_store(store_settings)
    with Ingestor(store, images=True, workers=1).session() as ingestor:
        ingestor.ingest_files([crawl / "ads.jsonl"])
    cfg = alembic_config(store.settings.url)
    scrub = next(r for r in ScriptDirectory.from_config(cfg).walk_revisions()
                 if (r.doc or "").startswith("image_paths"))
    with store.engine.begin() as conn:  # back to before the revision
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, str(scrub.down_revision))
    old = {1: ("1" * 64, "1111111111111111", None), 2: ("2" * 64, None, None),
           3: ("3" * 64, "3333333333333333", None), 4: (None, None, "missing"),
           5: (None, None, "missing")}
    with store.begin() as conn:
        version, ad_pk = conn.execute(sa.text("SELECT id, ad_pk FROM ad_version")).one()
        for position, (sha, phash, error) in old.items():  # as the old code stored them
            conn.execute(sa.text(
                "UPDATE ad_image SET sha256 = :s, phash = :p, dhash = :p, width = 64, "
                "height = 48, error = :e WHERE position = :n"),
                {"s": sha, "p": phash, "e": error, "n": position})
        for sha, phash in [(_sha(crawl / "photo.png"), "abcdefabcdefabcd"),
                           *((s, p) for s, p, _e in old.values() if s)]:
            conn.execute(sa.text("INSERT INTO link_key (version_id, ad_pk, kind, value) "
                                 "VALUES (:v, :a, 'image', :k)"),
                         {"v": version, "a": ad_pk, "k": f"{sha} {phash or ''}"})
    with store.engine.begin() as conn:  # then up through it (later ones drop derived
        cfg.attributes["connection"] = conn  # features: 0012)
        command.upgrade(cfg, scrub.revision)
    with store.begin() as conn:
        images = conn.execute(sa.text(
            "SELECT position, sha256, phash, dhash, width, error FROM ad_image "
            "ORDER BY position")).all()
        keys = conn.execute(sa.text("SELECT value FROM link_key")).scalars().all()
    store.dispose()
    assert images[0][1] == _sha(crawl / "photo.png") and images[0][5] is None
    for position in (1, 2, 3, 5):
        assert tuple(images[position][1:]) == (None, None, None, None, OUTSIDE), position
    assert images[4][5] == "missing"  # "a..b.png" is a name, inside the crawl
    assert keys == [f"{_sha(crawl / 'photo.png')} abcdefabcdefabcd"]
