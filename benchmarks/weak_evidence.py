"""How much weak evidence would chain unrelated people, and what the linking rules prevent.

On a synthetic world (default: the ``demo`` preset), linking runs with faisceau's settings
and with weakened variants, and prints for each the B-cubed figures, the m learnt, then
every kind set of weak evidence compared, split into true pairs (same controller in the
ground truth) and false ones, linked, cut as bridges or refused, and how far the weight of
each side fell from what a link needed:

- ``faisceau``: the settings in ``src/faisceau/link/settings.toml``;
- ``posterior 0.9``: links at a posterior probability of 0.9 instead of 0.999;
- ``one pass``: frequencies counted over groups only, never over the networks found;
- ``no hand-over``: a phone or handle that changed hands stays one identifier;
- ``no bridge cut``: a weak link between two established groups is kept.

    .venv/bin/python benchmarks/weak_evidence.py [--preset demo] [--scale S] [--days D]
        [--seed N]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from _common import add_world_options, machine, world_params
from faisceau.config import Settings
from faisceau.evaluate.metrics import bcubed, contingency
from faisceau.ingest.pipeline import Ingestor
from faisceau.link import features
from faisceau.link.graph import link
from faisceau.link.load import load_input
from faisceau.link.settings import load_settings
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
        variants = {
            "faisceau": base,
            "posterior 0.9": dataclasses.replace(base, min_posterior=0.9),
            "one pass": dataclasses.replace(base, passes=1),
            "no hand-over": dataclasses.replace(base, handover=False),
            "no bridge cut": dataclasses.replace(base, bridge_min_ads=10**9),
        }
        for name, settings in variants.items():
            started = time.perf_counter()
            result = link(data, settings)
            seconds = time.perf_counter() - started
            score = bcubed(contingency(result.labels.tolist(), true))
            assert score is not None
            print(f"\n{name}: B³ P {score.precision:.4f} R {score.recall:.4f} "
                  f"F1 {score.f1:.4f}; hand-overs {len(result.handovers)}; "
                  f"linking {seconds:.2f} s; m learnt {result.m}")
            tally: Counter[tuple[str, str, str]] = Counter()
            margins: dict[str, list[float]] = {"true": [], "FALSE": []}
            for w in result.weak_links:
                correct = "true" if true[w.left] == true[w.right] else "FALSE"
                fate = "refused" if w.refused else "cut" if w.cut else "linked"
                tally[("+".join(sorted(w.kinds)), correct, fate)] += 1
                margins[correct].append(w.total - w.needed)
            for (kinds, correct, fate), count in sorted(tally.items()):
                print(f"  {kinds:<32} {correct:<5} {fate:<7} {count:6,}")
            for correct, values in margins.items():
                if values:
                    deciles = np.percentile(values, [0, 10, 50, 90, 100]).round(1).tolist()
                    print(f"  weight − needed, {correct} pairs (min, 10 %, median, 90 %, "
                          f"max): {deciles}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
