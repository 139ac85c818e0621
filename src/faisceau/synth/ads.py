"""A small synthetic daily crawl of ads, with the ground truth of who controls each one.

Three kinds of controller post the ads: independent workers (their own phone, city and
style), small pimping set-ups (one controller's phones shared by a few victims, hotels,
nearby cities) and organised networks (templated texts, foreign victims moved along a
circuit of cities, phones rotated). Each day every active ad is seen again; some are edited
(a new version), some withdrawn, new ones appear. A share of lines can be corrupted on
purpose to exercise the quarantine. Same parameters and seed, same bytes.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO, cast

import orjson

from faisceau.synth import phones

KIND_SHARES = (("independent", 0.72), ("pimp", 0.16), ("network", 0.12))
PERSONS_PER_CONTROLLER = {"independent": (1, 1), "pimp": (2, 4), "network": (4, 12)}
PHONES_PER_CONTROLLER = {"independent": (1, 1), "pimp": (1, 2), "network": (2, 5)}
MEAN_LIFETIME_DAYS = 12
DAILY_EDIT_RATE = 0.04


@dataclass(frozen=True)
class Params:
    ads_per_day: int = 2_000
    days: int = 7
    seed: int = 1
    start: date = date(2026, 3, 2)
    corrupt_rate: float = 0.0
    images: bool = False
    gzip: bool = False
    single_file: bool = False


@dataclass
class Person:
    name: str
    age: int
    origin: str
    photo: int


@dataclass
class Controller:
    id: str
    kind: str
    phones: list[str]
    persons: list[Person]
    cities: list[tuple[str, str]]
    languages: list[str]
    handle: str | None


@dataclass
class LiveAd:
    ad_id: str
    controller: Controller
    person: Person
    city: tuple[str, str]
    posted: datetime
    content: dict[str, Any]
    versions: int = 1


@dataclass
class Written:
    files: list[Path] = field(default_factory=list)
    lines: int = 0
    corrupt: int = 0
    ads: int = 0


def _data() -> dict[str, Any]:
    raw = (resources.files(__package__) / "data" / "ads.json").read_bytes()
    data: dict[str, Any] = orjson.loads(raw)
    return data


class World:
    """The controllers and their ads; ``crawl`` yields each day's lines."""

    def __init__(self, params: Params) -> None:
        self.p = params
        self.rng = random.Random(params.seed)
        self.data = _data()
        self.controllers: list[Controller] = []
        self.live: list[LiveAd] = []
        self.next_ad = 0
        self.truth: list[dict[str, Any]] = []

    def _controller(self) -> Controller:
        rng = self.rng
        roll, acc = rng.random(), 0.0
        kind = KIND_SHARES[-1][0]
        for name, share in KIND_SHARES:
            acc += share
            if roll < acc:
                kind = name
                break
        n_persons = rng.randint(*PERSONS_PER_CONTROLLER[kind])
        n_phones = rng.randint(*PHONES_PER_CONTROLLER[kind])
        minor_rate = 0.2 if kind == "pimp" else 0.0
        persons = [Person(
            name=rng.choice(self.data["names"]),
            age=rng.randint(15, 17) if rng.random() < minor_rate else rng.randint(19, 45),
            origin=rng.choice(self.data["origins"][kind]),
            photo=rng.randrange(10**9),
        ) for _ in range(n_persons)]
        home = rng.randrange(len(self.data["cities"]))
        span = {"independent": 1, "pimp": 3, "network": 8}[kind]
        cities = [self.data["cities"][(home + i * rng.randint(1, 5)) % len(self.data["cities"])]
                  for i in range(span)]
        languages = list(self.data["templates"][kind])
        controller = Controller(
            id=f"c{len(self.controllers):06d}", kind=kind,
            phones=[phones.french_mobile(rng) for _ in range(n_phones)], persons=persons,
            cities=[(c[0], c[1]) for c in cities], languages=languages,
            handle=f"{persons[0].name.lower()}_{rng.randrange(100, 999)}"
            if rng.random() < 0.4 else None,
        )
        self.controllers.append(controller)
        return controller

    def _content(self, ad: LiveAd, day: int) -> dict[str, Any]:
        rng, c, person = self.rng, ad.controller, ad.person
        lang = rng.choice(c.languages)
        phone = rng.choice(c.phones)
        style = rng.choice(phones.STYLES)
        shown_phone = phones.render(phone, style, rng)
        slots = {"name": person.name, "age": person.age, "city": ad.city[0],
                 "origin": person.origin or "", "phone": shown_phone,
                 "price": rng.choice(self.data["prices"])}
        text = rng.choice(self.data["templates"][c.kind][lang]).format(**slots)
        title = rng.choice(self.data["titles"][c.kind]).format(**slots)
        content: dict[str, Any] = {
            "url": f"https://annonces.example/{ad.ad_id}",
            "posted_at": ad.posted.date().isoformat(),
            "title": title, "text": text, "name": person.name,
            "age": rng.choice([person.age, f"{person.age} ans", f"{person.age}yo"]),
            "origin": person.origin or None, "location": ad.city[0],
            "phone": phones.render(phone, rng.choice(("spaced", "plain", "dotted")), rng)
            if rng.random() < 0.7 else None,
            "price": rng.choice(self.data["prices"]),
        }
        if c.handle:
            whatsapp = phones.render(phone, "international", rng)
            content["links"] = [rng.choice([f"snap: {c.handle}", f"t.me/{c.handle}",
                                            f"WhatsApp: {whatsapp}"])]
        if self.p.images:
            content["images"] = [{"path": f"images/{person.photo % 10**6:06d}.png"}]
        return content

    def _new_ad(self, day: int) -> LiveAd:
        rng = self.rng
        if self.controllers and rng.random() < 0.6:
            controller = rng.choice(self.controllers[-500:])
        else:
            controller = self._controller()
        person = rng.choice(controller.persons)
        city = controller.cities[day % len(controller.cities)] if controller.kind != "independent" \
            else controller.cities[0]
        self.next_ad += 1
        posted = datetime.combine(self.p.start + timedelta(days=day), datetime.min.time())
        ad = LiveAd(ad_id=f"{self.next_ad:08d}", controller=controller, person=person,
                    city=city, posted=posted, content={})
        ad.content = self._content(ad, day)
        self.truth.append({"source": self.data["source"], "ad_id": ad.ad_id,
                           "controller": controller.id, "controller_kind": controller.kind,
                           "person": f"{controller.id}:{controller.persons.index(person)}",
                           "minor": person.age < 18})
        return ad

    def crawl(self) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        rng = self.rng
        for day in range(self.p.days):
            if day:
                survivors = [a for a in self.live if rng.random() > 1 / MEAN_LIFETIME_DAYS]
                for a in survivors:
                    if rng.random() < DAILY_EDIT_RATE:
                        a.content = self._content(a, day)
                        a.versions += 1
                self.live = survivors
            while len(self.live) < self.p.ads_per_day:
                self.live.append(self._new_ad(day))
            base = datetime.combine(self.p.start + timedelta(days=day), datetime.min.time())
            lines = []
            for i, a in enumerate(self.live):
                seen = base + timedelta(seconds=6 * 3600 + (i * 37) % 50_000)
                stamp = seen.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
                lines.append({"ad_id": a.ad_id, "source": self.data["source"],
                              "seen_at": stamp, **a.content})
            yield day, lines


def _corrupt(line: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:
        return line[: len(line) // 2]
    if kind == 1:
        return line.replace(b'"seen_at"', b'"seen_at_"', 1)
    if kind == 2:
        return line[:-1] + b',"age":[1,2]}'
    if kind == 3:
        return line[:10] + b"\xff\xfe" + line[10:]
    return line[:-1] + b',"text":"' + b"x" * 60_000 + b'"}'


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def _photo(path: Path, seed: int) -> None:
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    img = Image.new("RGB", (96, 128), _colour(rng))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y = rng.randrange(96), rng.randrange(128)
        draw.ellipse((x, y, x + rng.randrange(10, 50), y + rng.randrange(10, 50)),
                     fill=_colour(rng))
    img.save(path)


def _open(path: Path, compress: bool) -> BinaryIO:
    if compress:
        # mtime fixed: same bytes every run
        return cast(BinaryIO, gzip.GzipFile(path, "wb", mtime=0))
    return open(path, "wb")


def write_crawl(params: Params, out_dir: Path) -> Written:
    """Write the crawl into ``out_dir/crawl`` (one file per day, or one file; images beside
    it) and the ground truth into ``out_dir/truth.jsonl``, outside what is to be ingested."""
    root = out_dir
    out_dir = root / "crawl"
    out_dir.mkdir(parents=True, exist_ok=True)
    world = World(params)
    corrupt_rng = random.Random(params.seed + 1)
    written = Written()
    suffix = ".jsonl.gz" if params.gzip else ".jsonl"
    single: BinaryIO | None = None
    if params.single_file:
        path = out_dir / f"ads{suffix}"
        single = _open(path, params.gzip)
        written.files.append(path)
    try:
        for day, lines in world.crawl():
            if single is None:
                path = out_dir / f"ads-{params.start + timedelta(days=day)}{suffix}"
                handle = _open(path, params.gzip)
                written.files.append(path)
            else:
                handle = single
            for obj in lines:
                line = orjson.dumps(obj) + b"\n"
                if params.corrupt_rate and corrupt_rng.random() < params.corrupt_rate:
                    line = _corrupt(line[:-1], corrupt_rng) + b"\n"
                    written.corrupt += 1
                handle.write(line)
                written.lines += 1
            if single is None:
                handle.close()
    finally:
        if single is not None:
            single.close()
    if params.images:
        (out_dir / "images").mkdir(exist_ok=True)
        for c in world.controllers:
            for person in c.persons:
                target = out_dir / "images" / f"{person.photo % 10**6:06d}.png"
                if not target.exists():
                    _photo(target, person.photo)
    with open(root / "truth.jsonl", "wb") as handle:
        for row in world.truth:
            handle.write(orjson.dumps(row) + b"\n")
    written.ads = len(world.truth)
    return written
