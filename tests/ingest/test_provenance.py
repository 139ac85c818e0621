"""What an analyst reads back: every value beside what the ad showed, its field and version."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_faisceau


def test_values_keep_what_was_shown_and_where(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200", "FAISCEAU_HOME": str(tmp_path / "s")}
    ad = {"ad_id": "p1", "source": "exemple", "seen_at": "2026-03-01T08:00:00Z",
          "title": "Lola 23 ans à Lyon 7ème",
          "text": "Appelle le zéro six douze trente-quatre 56 78, snap: lola_69. 150€ l'heure.",
          "phone": "O6.l2.34.56.78", "location": "69007", "age": "23 ans",
          "links": ["https://wa.me/33612345678"], "origin": "brésilienne"}
    changed = {**ad, "seen_at": "2026-03-02T08:00:00Z", "location": "Marseille 6e"}
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(ad, ensure_ascii=False) + "\n" +
                    json.dumps(changed, ensure_ascii=False) + "\n")
    run_faisceau(["ingest", "ads", str(path)], env)
    shown = json.loads(run_faisceau(["ads", "show", "exemple", "p1"], env).stdout)

    assert shown["sightings"] == 2 and shown["current_version"] == 2
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    first, second = shown["versions"]
    assert first["from"].endswith("a.jsonl:1") and second["from"].endswith("a.jsonl:2")
    assert first["departement"] == "69" and second["departement"] == "13"
    assert first["commune"] == "69387" and second["commune"] == "13206"
    assert first["age"] == 23 and first["language"] == "fr"
    values = {(v["kind"], v["field"]): v for v in first["values"]}
    assert values[("phone", "phone")]["value"] == "+33612345678"
    assert values[("phone", "phone")]["shown"] == "O6.l2.34.56.78"
    assert values[("phone", "text")]["value"] == "+33612345678"
    assert "trente-quatre" in values[("phone", "text")]["shown"]
    assert values[("handle", "text")]["value"] == "snapchat:lola_69"
    assert values[("place", "location")]["shown"] == "69007"
    assert values[("place", "title")]["value"] == "69387"
    assert values[("price", "text")]["detail"]["amount"] == 150
    assert values[("origin", "origin")]["value"] == "BR"
    assert values[("age", "age")]["shown"] == "23 ans"
    assert [s["version"] for s in shown["seen_at"]] == [1, 2]
