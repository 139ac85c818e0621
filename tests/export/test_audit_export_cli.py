"""``faisceau audit export`` writes the log through the safe CSV path, on both stores."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from faisceau.cli.main import app
from faisceau.config import Settings
from faisceau.export import safecsv
from faisceau.share import audit
from faisceau.share.access import Viewer
from faisceau.store import open_store


def test_audit_export_neutralises_formulas(store_settings: Settings,
                                           store_env: dict[str, str], tmp_path: Path) -> None:
    store = open_store(store_settings)
    hostile = "=1+1+cmd|' /C calc'!A0"
    with store.begin() as conn:
        audit.record(conn, Viewer("-x", "analyst", "OCRTEH"), "view", "ad", hostile,
                     reason="+appel", at=datetime(2026, 3, 1, 9))
    store.dispose()
    out = tmp_path / "journal.csv"
    result = CliRunner().invoke(app, ["audit", "export", "--out", str(out)],
                                env={**store_env, "FAISCEAU_ANALYST": "auditeur.test"})
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert not [c for r in rows for c in r if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    with open(out, encoding="utf-8", newline="") as fh:
        back = list(safecsv.reader(fh, delimiter=";"))
    assert [(r[2], r[6], r[8]) for r in back if r[6] == hostile] == [("-x", hostile, "+appel")]
