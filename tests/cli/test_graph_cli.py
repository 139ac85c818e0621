"""``faisceau graph`` through the real command line, on a small world's case files.

What an analyst relies on: the head of a case's network is among the key persons of its
community; a path between a head and a victim of the same case exists and shows its
evidence; an entity's timeline is in date order; an unknown id is refused on one line.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from faisceau.synth.behind import write_behind
from faisceau.synth.world import Params, write_world
from tests.conftest import run_faisceau


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    params = Params(scale=0.05, days=30, seed=2, images=False)
    write_world(params, out)
    write_behind(out, params.seed, params.start, params.scale)
    return out


def _case_with_head(world: Path) -> tuple[str, str]:
    for line in (world / "truth" / "cases.jsonl").read_bytes().splitlines():
        case = orjson.loads(line)
        heads = [s["entity"] for s in case["suspects"] if s["role"] == "head"]
        victims = [v["entity"] for v in case["victims"] if v["identified"]]
        if heads and victims:
            return heads[0], victims[0]
    raise AssertionError("no case with a head and an identified victim")


def test_graph_commands(world: Path, store_env: dict[str, str]) -> None:
    run_faisceau(["cases", "import", str(world / "intel" / "csv")], store_env)
    head, victim = _case_with_head(world)

    persons = json.loads(run_faisceau(["graph", "key-persons", "--entity", head, "--json"],
                                      store_env).stdout)
    assert head in [p["id"] for p in persons]
    assert all(p["reason"] for p in persons)

    path = json.loads(run_faisceau(["graph", "path", head, victim, "--json"],
                                   store_env).stdout)
    assert path["nodes"][0] == head and path["nodes"][-1] == victim
    assert len(path["edges"]) >= len(path["nodes"]) - 1

    near = json.loads(run_faisceau(["graph", "neighbours", head, "--json"], store_env).stdout)
    ids = {n["id"] for n in near["nodes"]}
    assert head in ids and len(ids) > 2
    assert all(e["source"] in ids and e["target"] in ids for e in near["edges"])

    facts = json.loads(run_faisceau(["graph", "timeline", head, "--json"], store_env).stdout)
    dates = [f["date"] for f in facts if f["date"] is not None]
    assert dates and dates == sorted(dates)

    unknown = run_faisceau(["graph", "neighbours", "NOPE"], store_env, check=False)
    assert unknown.returncode == 2 and "NOPE" in unknown.stderr
