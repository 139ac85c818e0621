"""How much weak evidence would chain unrelated people, and what the linking rules prevent.

On a synthetic world (default: the ``demo`` preset), linking runs with faisceau's settings
and with weakened variants, and prints for each the B-cubed figures, then every kind set of
weak link made, split into true links (same controller in the ground truth) and false ones,
kept or cut as bridges:

- ``faisceau``: the settings in ``src/faisceau/link/settings.toml``;
- ``two kinds suffice``: any two weak kinds make a link (text + co-location, ...);
- ``no hand-over``: a phone or handle that changed hands stays one identifier;
- ``no bridge cut``: a weak link between two established groups is kept.

    .venv/bin/python benchmarks/weak_evidence.py [--preset demo] [--scale S] [--days D]
        [--seed N]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from _common import add_world_options, machine, world_params
from faisceau.config import Settings
from faisceau.evaluate.metrics import bcubed, contingency
from faisceau.ingest.pipeline import Ingestor
from faisceau.link import features
from faisceau.link.graph import link
from faisceau.link.load import load_input
from faisceau.link.settings import WEAK_KINDS, load_settings
from faisceau.store import open_store
from faisceau.synth.world import write_world
from infoshield_coarse import load_truth


def main() -> int:
    parser = argparse.ArgumentParser()
    add_world_options(parser)
    args = parser.parse_args()
    params = world_params(args)
    print(machine())
    print(f"world: preset {args.preset}, scale {params.scale}, {params.days} days, "
          f"seed {params.seed}, images {params.images}")
    tmp = Path(tempfile.mkdtemp(prefix="faisceau-bench-weak-"))
    try:
        write_world(params, tmp / "world")
        truth = load_truth(tmp / "world" / "truth" / "ads.jsonl")
        store = open_store(Settings(home=tmp / "store", database_url=None))
        with Ingestor(store, images=params.images).session() as ingestor:
            ingestor.ingest_paths([tmp / "world" / "crawl"])
        base = load_settings()
        with store.begin() as conn:
            features.compute_new(conn, 0, base)
        with store.begin() as conn:
            ads, data = load_input(conn, base)
        store.dispose()
        true = [truth[tuple(ref.split(":", 1))] for ref in ads.refs]  # type: ignore[index]
        pairs = tuple(frozenset(p) for p in itertools.combinations(WEAK_KINDS, 2))
        variants = {
            "faisceau": base,
            "two kinds suffice": dataclasses.replace(base, corroborations=pairs),
            "no hand-over": dataclasses.replace(base, handover=False),
            "no bridge cut": dataclasses.replace(base, bridge_min_ads=10**9),
        }
        for name, settings in variants.items():
            result = link(data, settings)
            score = bcubed(contingency(result.labels.tolist(), true))
            assert score is not None
            print(f"\n{name}: B³ P {score.precision:.4f} R {score.recall:.4f} "
                  f"F1 {score.f1:.4f}; hand-overs {len(result.handovers)}")
            tally: Counter[tuple[str, str, str]] = Counter()
            for w in result.weak_links:
                tally[("+".join(sorted(w.kinds)),
                       "true" if true[w.left] == true[w.right] else "FALSE",
                       "cut" if w.cut else "kept")] += 1
            for (kinds, correct, fate), count in sorted(tally.items()):
                print(f"  {kinds:<32} {correct:<5} {fate:<4} {count:6,}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
