"""How right the leads are: ads' networks against case files, on a synthetic world.

Makes a world (default: the ``demo`` preset) with the world behind the ads, ingests the
crawl, runs ``faisceau detect``, imports the case files (CSV layout), then times
``find_leads`` (first run, and a second one that finds nothing new) and measures against
the ground truth (``truth/ads.jsonl``, ``truth/cases.jsonl``, ``truth/signals.jsonl``):

- precision, by kind and by strength: a lead of a case is right when most of its network's
  ads belong to one of the case's controllers; a lead of a partner's signal, when they
  belong to the controller the signal is about (which may be an independent worker: a
  false alarm, reported apart);
- recall: the share of cases that get at least one right lead (by kind), and the share of
  the case phones of source ``annonces`` (the ads' phones) found as a phone lead of their
  case, out of all of them and out of those an ad of the store shows;
- the partner signals' leads: true alarms and false ones, with their strength and the
  network's risk (false alarms should be weaker or dismissable).

    .venv/bin/python benchmarks/leads_quality.py [--preset demo] [--plain] [--scale S]
        [--days D] [--seed N] [--url postgresql+psycopg://...] [--world DIR --home DIR]

``--plain`` starts from ``Params()`` (no photos, no corrupted lines) rather than the
preset: ``--plain --scale 0.3 --days 60 --seed 3`` is ``Params(scale=0.3, days=60, seed=3)``.

``--world`` and ``--home`` reuse a world already written and a store already built from it
(ingested, detected, case files imported): only the leads are found and measured.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from _common import add_world_options, empty_store, machine, world_params
from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.intel.casefiles import import_case_files
from faisceau.intel.leads import find_leads
from faisceau.score.run import detect_and_score
from faisceau.store import Store, bulk, open_store
from faisceau.synth.behind import write_behind
from faisceau.synth.world import Params, write_world


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


def build(world: Path, settings: Settings, params: Any) -> None:
    started = time.perf_counter()
    write_world(params, world)
    write_behind(world, params.seed, params.start, params.scale)
    print(f"world written in {time.perf_counter() - started:.1f} s")
    store = open_store(settings)
    empty_store(store)
    try:
        started = time.perf_counter()
        with Ingestor(store, images=params.images).session() as ingestor:
            ingestor.ingest_paths([world / "crawl"])
        detect_and_score(store)
        print(f"ingested and detected in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        summary = import_case_files(store, [world / "intel" / "csv"])
        print(f"case files imported in {time.perf_counter() - started:.1f} s: "
              f"{summary.entities} entities, {summary.statements} statements, "
              f"{len(summary.set_aside)} set aside")
    finally:
        store.dispose()


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f} ({part}/{whole})" if whole else "n/a (0/0)"


def measure(world: Path, store: Store) -> None:
    truth = {f"{r['source']}:{r['ad_id']}": r["controller"]
             for r in _jsonl(world / "truth" / "ads.jsonl")}
    cases = {c["case"]: c for c in _jsonl(world / "truth" / "cases.jsonl")}
    signals = {s["signal"]: s for s in _jsonl(world / "truth" / "signals.jsonl")}
    with open(world / "intel" / "csv" / "phones.csv", encoding="utf-8") as handle:
        ad_phones = {(r["affaire_id"], r["numero"]) for r in csv.DictReader(handle, delimiter=";")
                     if r["source"] == "annonces"}
    with store.begin() as conn:
        members: dict[str, Counter[str]] = defaultdict(Counter)
        for source, ad_id, network_id in bulk.fetch(conn, (
                "SELECT a.source, a.ad_id, n.network_id FROM ad a "
                "JOIN ad_network n ON n.ad_pk = a.id"), ()):
            members[network_id][truth.get(f"{source}:{ad_id}", "?")] += 1
        suspected = {r[0]: bool(r[1]) for r in bulk.fetch(
            conn, "SELECT network_id, trafficking_suspected FROM network_score", ())}
        leads = bulk.fetch(conn, "SELECT network_id, entity_id, case_id, kind, value, ads, "
                                 "strength FROM intel_lead WHERE ads > 0", ())
        shown = {r[0] for r in bulk.fetch(
            conn, "SELECT DISTINCT value FROM ad_value WHERE kind = 'phone'", ())}

    def owner(network_id: str) -> tuple[str, float]:
        counts = members[network_id]
        controller, ads = counts.most_common(1)[0]
        return controller, ads / sum(counts.values())

    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_strength: dict[tuple[str, float], list[int]] = defaultdict(lambda: [0, 0])
    reached: dict[str, set[str]] = defaultdict(set)
    found_phones: set[tuple[str, str]] = set()
    signal_rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for network_id, entity_id, case_id, kind, value, _ads, strength in leads:
        controller, share = owner(network_id)
        if entity_id in signals:
            truth_signal = signals[entity_id]
            right = share >= 0.5 and controller == truth_signal["controller"]
            alarm = "true alarm" if truth_signal["trafficking"] else \
                f"false alarm ({truth_signal['false_alarm']})"
            signal_rows[alarm].append((kind, strength, right, suspected.get(network_id)))
            source = "signal"
        else:
            right = case_id in cases and share >= 0.5 and \
                controller in cases[case_id]["controllers"]
            source = "case"
            if right:
                reached[kind].add(case_id)
                reached["any"].add(case_id)
            if kind == "phone" and case_id:
                found_phones.add((case_id, value))
        for tally in (by_kind[f"{source} {kind}"], by_strength[(source, float(strength))]):
            tally[0] += right
            tally[1] += 1

    print(f"\nleads: {len(leads)} (cases: {len(cases)}, signals: {len(signals)})")
    print("\nprecision by source and kind")
    for name, (right, total) in sorted(by_kind.items()):
        print(f"  {name:<16} {_ratio(right, total)}")
    print("\nprecision by source and strength")
    for (source, strength), (right, total) in sorted(by_strength.items(),
                                                     key=lambda i: (i[0][0], -i[0][1])):
        print(f"  {source:<7} {strength:.1f}  {_ratio(right, total)}")
    print("\nrecall: cases with at least one right lead")
    for kind in ("any", "phone", "handle", "email", "image", "name"):
        print(f"  {kind:<7} {_ratio(len(reached[kind]), len(cases))}")
    in_ads = {p for p in ad_phones if p[1] in shown}
    print("\nrecall: case phones of source « annonces » found as a phone lead of their case")
    print(f"  all              {_ratio(len(ad_phones & found_phones), len(ad_phones))}")
    print(f"  shown by an ad   {_ratio(len(in_ads & found_phones), len(in_ads))}")
    print("\npartner signals' leads (kind, strength): right / total, network suspected")
    for alarm, rows in sorted(signal_rows.items()):
        groups: dict[tuple[str, float], list[int]] = defaultdict(lambda: [0, 0, 0])
        for kind, strength, right, flagged in rows:
            group = groups[(kind, float(strength))]
            group[0] += right
            group[1] += 1
            group[2] += bool(flagged)
        text = ", ".join(f"{k} {s:.1f}: {r}/{t}, suspected {f}"
                         for (k, s), (r, t, f) in sorted(groups.items()))
        print(f"  {alarm:<28} {text}")
    with_leads = {e for e in {r[1] for r in leads} if e in signals}
    for alarm in ("true", "false"):
        pool = [s for s in signals.values() if s["trafficking"] == (alarm == "true")]
        hit = [s for s in pool if s["signal"] in with_leads]
        print(f"  {alarm} alarms with a lead: {_ratio(len(hit), len(pool))}")


def main() -> int:
    parser = argparse.ArgumentParser()
    add_world_options(parser)
    parser.add_argument("--plain", action="store_true",
                        help="Params() defaults instead of the preset's")
    parser.add_argument("--url", help="a PostgreSQL store (emptied first) instead of the "
                                      "embedded one")
    parser.add_argument("--world", type=Path, help="a world already written (with --home)")
    parser.add_argument("--home", type=Path, help="its store, already built")
    args = parser.parse_args()
    print(machine())
    tmp = Path(tempfile.mkdtemp(prefix="faisceau-bench-leads-"))
    try:
        if args.world and args.home:
            world, home = args.world, args.home
            print(f"world: {world}, store: {home}")
        else:
            params = world_params(args)
            if args.plain:
                params = Params(scale=params.scale, days=params.days, seed=params.seed)
            base = "Params()" if args.plain else f"preset {args.preset}"
            print(f"world: {base}, scale {params.scale}, {params.days} days, "
                  f"seed {params.seed}, images {params.images}")
            world, home = tmp / "world", tmp / "store"
            build(world, Settings(home=home, database_url=args.url), params)
        store = open_store(Settings(home=home, database_url=args.url))
        try:
            for run in ("first", "again"):
                summary = find_leads(store)
                print(f"find_leads ({run}): {summary.seconds:.2f} s, {summary.keys} case "
                      f"values, {summary.leads} leads {summary.by_kind}, new {summary.new}, "
                      f"updated {summary.updated}, unchanged {summary.unchanged}")
            measure(world, store)
        finally:
            store.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
