"""Speed of ad normalisation (``normalise_ad``) on a synthetic crawl day, per normaliser.

A synthetic day (default 10,000 ads, seed 11) is written with ``faisceau.synth.world``; each
repetition then runs in a fresh process, so caches start as a new ingestion worker's do:
``warm_up()`` loads the reference data, the caches of normalise_ad (``free_text_values``,
``field_values``) are emptied, and every ad is normalised once, images excluded. Two kinds
of run:

- total: ``normalise_ad`` on every ad, mean µs per ad (the figure the target is about),
  wall clock and CPU time of the process (which other load on the machine disturbs less);
- breakdown: the calls ``normalise_ad`` makes, each timed on its own, µs per ad summed
  over an ad's fields (dedicated fields through normalise_ad's cache, free-text finders
  on title and text uncached, as every ad's text is new). The sum leaves out
  normalise_ad's own bookkeeping (collecting values, its free-text cache).

    .venv/bin/python benchmarks/normalise_speed.py [--ads N] [--seed S] [--repeat R]
        [--crawl FILE.jsonl]

``--crawl`` reads an existing crawl file instead, to compare versions on the same ads.

Prints best-of and median over the repetitions (the machine may be shared: best-of is the
figure that other load disturbs least). Target: total <= 350 µs per ad.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from _common import machine
from faisceau.normalise.ad import field_strings
from faisceau.synth.world import Params, write_world

TARGET_US = 350.0
NORMALISERS = ("language", "phones", "places", "prices", "origins", "handles", "ages",
               "emails")


def _load(path: Path) -> list[dict[str, Any]]:
    with open(path, "rb") as handle:
        return [orjson.loads(line) for line in handle if line.strip()]


def _run_total(ads: list[dict[str, Any]]) -> dict[str, float]:
    from faisceau.normalise.ad import field_values, free_text_values, normalise_ad, warm_up

    warm_up()
    free_text_values.cache_clear()
    field_values.cache_clear()
    start, cpu = time.perf_counter(), time.process_time()
    for content in ads:
        normalise_ad(content, None, images=False)
    return {"total": (time.perf_counter() - start) * 1e6 / len(ads),
            "cpu": (time.process_time() - cpu) * 1e6 / len(ads)}


def _run_breakdown(ads: list[dict[str, Any]]) -> dict[str, float]:
    from faisceau.normalise import age, contacts, language, origins, phones, places, prices
    from faisceau.normalise.ad import field_values, free_text_values, warm_up

    warm_up()
    free_text_values.cache_clear()
    field_values.cache_clear()
    spent = dict.fromkeys(NORMALISERS, 0)
    clock = time.perf_counter_ns

    def timed(name: str, call: Callable[..., object], *args: Any) -> None:
        start = clock()
        call(*args)
        spent[name] += clock() - start

    def field(name: str, kind: str, text: str) -> None:
        timed(name, field_values, kind, text)

    for content in ads:
        # The calls normalise_ad makes, in its order: fields through its cache, title and
        # text (new in every ad) straight to each finder.
        for text in field_strings(content.get("phone")):
            field("phones", "phone", text)
        for text in field_strings(content.get("email")):
            field("emails", "email", text)
        for text in field_strings(content.get("links")):
            field("handles", "handle", text)
            field("phones", "phone", text)
            field("emails", "email", text)
        raw_age = content.get("age")
        if isinstance(raw_age, str):
            field("ages", "age", raw_age)
        elif raw_age is not None and not isinstance(raw_age, bool):
            timed("ages", age.parse_age, raw_age)
        for text in field_strings(content.get("price")):
            field("prices", "price", text)
        for text in field_strings(content.get("origin")):
            field("origins", "origin", text)
        location = content.get("location")
        if isinstance(location, str) and location.strip():
            field("places", "place", location)
        title, text = (t if isinstance(t := content.get(f), str) else ""
                       for f in ("title", "text"))
        both = f"{title}\n{text}" if title and text else title or text
        if both:
            timed("phones", phones.find_phones, both)
            timed("emails", contacts.find_emails, both)
            timed("handles", contacts.find_handles, both)
            timed("ages", age.find_ages, both)
            timed("prices", prices.find_prices, both)
            timed("origins", origins.find_origins, both)
            timed("places", places.find_places, both)
        free_text = " ".join(t for t in (title, text) if t)
        if free_text:
            timed("language", language.detect_language, free_text)
    return {name: ns / 1e3 / len(ads) for name, ns in spent.items()}


def _child(mode: str, path: Path) -> int:
    ads = _load(path)
    result = _run_total(ads) if mode == "total" else _run_breakdown(ads)
    print(json.dumps(result))
    return 0


def _spawn(mode: str, path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", mode, str(path)],
                         check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ads", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--crawl", type=Path, default=None)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.child[0], Path(args.child[1]))

    with tempfile.TemporaryDirectory(prefix="faisceau-speed-") as tmp:
        if args.crawl is not None:
            path = args.crawl
            described = f"{path}, {len(_load(path)):,} ads"
        else:
            written = write_world(Params(ads_per_day=args.ads, days=1, seed=args.seed),
                                  Path(tmp))
            path = written.files[0]
            described = f"synthetic day, {written.lines:,} ads (seed {args.seed})"
        print(f"machine: {machine()}")
        print(f"data: {described}; {args.repeat} repetitions, each in a fresh process "
              "after warm_up()")
        totals = [_spawn("total", path) for _ in range(args.repeat)]
        parts = [_spawn("breakdown", path) for _ in range(args.repeat)]

    print(f"\n{'µs per ad':<14}{'best':>9}{'median':>9}")
    for name in NORMALISERS:
        values = [p[name] for p in parts]
        print(f"{name:<14}{min(values):>9.1f}{statistics.median(values):>9.1f}")
    sums = [sum(p.values()) for p in parts]
    print(f"{'sum of parts':<14}{min(sums):>9.1f}{statistics.median(sums):>9.1f}")
    for key, label in (("total", "normalise_ad"), ("cpu", "  (CPU time)")):
        values = [t[key] for t in totals]
        print(f"{label:<14}{min(values):>9.1f}{statistics.median(values):>9.1f}"
              + (f"   target <= {TARGET_US:.0f}" if key == "total" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
