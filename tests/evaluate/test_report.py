"""The evaluation report (faisceau.evaluate.report) on a tiny invented world, every figure
computed by hand.

The world: independents I1 (2 ads, FR), I2 (BR), I3 (FR) and I4 (FR, its ad missing from
the export); pimp P1 (two minors, RO); network N1 (3 ads, NG); scam S1 (no origin). The
export adds x1, an ad the truth does not know. Predicted networks: n1 = I1's two ads,
n2 = I2's ad merged with one of N1's, n3 = I3, n4 = P1, n5 = the rest of N1, n6 = S1,
n7 = x1.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from faisceau.evaluate.metrics import BCubed, Ratio, Share, Spread, bcubed, contingency, roc_auc
from faisceau.evaluate.report import ORIGIN_MIN_ADS, EvaluationInputError, evaluate_paths, render

TRUTH = [
    # ad, controller, kind, minor, origin, origin group
    ("a1", "I1", "independent", False, "FR", "french"),
    ("a2", "I1", "independent", False, "FR", "french"),
    ("a3", "I2", "independent", False, "BR", "foreign"),
    ("a4", "I3", "independent", False, "FR", "french"),
    ("a5", "P1", "pimp", True, "RO", "foreign"),
    ("a6", "P1", "pimp", True, "RO", "foreign"),
    ("a7", "N1", "network", False, "NG", "foreign"),
    ("a8", "N1", "network", False, "NG", "foreign"),
    ("a9", "N1", "network", False, "NG", "foreign"),
    ("a10", "S1", "scam", False, None, "unknown"),
    ("a11", "I4", "independent", False, "FR", "french"),
]
ADS = [
    # ad, network, risk, minor suspected
    ("a1", "n1", 0.1, False),
    ("a2", "n1", 0.2, False),
    ("a3", "n2", 0.6, True),
    ("a4", "n3", 0.3, False),
    ("a5", "n4", 0.8, True),
    ("a6", "n4", 0.7, False),
    ("a7", "n5", 0.9, False),
    ("a8", "n5", 0.9, False),
    ("a9", "n2", 0.6, False),
    ("a10", "n6", 0.5, False),
    ("x1", "n7", 0.05, False),
]
NETWORKS = [
    # network, risk, trafficking suspected
    ("n1", 0.2, False),
    ("n2", 0.6, True),
    ("n3", 0.3, True),
    ("n4", 0.8, True),
    ("n5", 0.9, True),
    ("n6", 0.9, False),  # ties with n5: n5 ranks first by id
    ("n7", 0.95, False),  # the riskiest, yet no known ad: a miss in the top k
]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    data = b"".join(orjson.dumps(row) + b"\n" for row in rows)
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def truth_rows() -> list[dict[str, Any]]:
    return [{"source": "site", "ad_id": ad, "controller": controller, "controller_kind": kind,
             "person": f"p-{ad}", "minor": minor, "origin": origin, "origin_group": group}
            for ad, controller, kind, minor, origin, group in TRUTH]


def ads_rows() -> list[dict[str, Any]]:
    return [{"source": "site", "ad_id": ad, "network_id": network, "risk": risk,
             "minor_suspected": minor, "phones": ["+33612340000"], "departement": "75"}
            for ad, network, risk, minor in ADS]


def network_rows(networks: list[tuple[str, float, bool]] = NETWORKS) -> list[dict[str, Any]]:
    return [{"network_id": network, "ads": 1, "risk": risk, "trafficking_suspected": flag,
             "minor_suspected": False, "reasons": []} for network, risk, flag in networks]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    return (write_jsonl(tmp_path / "ads.truth.jsonl", truth_rows()),
            write_jsonl(tmp_path / "ads.jsonl", ads_rows()),
            write_jsonl(tmp_path / "networks.jsonl", network_rows()))


def test_every_figure_with_networks_export(files: tuple[Path, Path, Path]) -> None:
    report = evaluate_paths(*files)
    c = report.counts
    assert (c.truth_ads, c.export_ads, c.evaluated_ads) == (11, 11, 10)
    assert (c.missing_from_export, c.missing_from_truth) == (1, 1)  # a11, x1
    # I4 has no evaluated ad, so it is not counted
    assert c.controllers == {"independent": 3, "pimp": 1, "network": 1, "scam": 1}
    assert c.trafficking_controllers == 2
    assert c.predicted_networks == 7
    assert c.suspected_networks == 4
    assert c.networks_export is True
    assert (c.networks_without_summary, c.networks_without_ads) == (0, 0)

    # cells over the 10 evaluated ads: (n1,I1)=2 (n2,I2)=1 (n2,N1)=1 (n3,I3)=1 (n4,P1)=2
    # (n5,N1)=2 (n6,S1)=1; sizes n1..n6 = 2 2 1 2 2 1; I1 2, I2 1, I3 1, P1 2, N1 3, S1 1
    # precision = (4/2 + 1/2 + 1/2 + 1 + 4/2 + 4/2 + 1) / 10 = 9/10
    # recall = (4/2 + 1 + 1/3 + 1 + 4/2 + 4/3 + 1) / 10 = 13/15
    assert report.clustering == pytest.approx(BCubed(0.9, 13 / 15, 234 / 265))

    # k = 2; ranked n7 (0.95), n5 (0.9, before n6 by id): n7 holds no known ad, n5 is N1's
    assert report.ranking.k == 2
    assert report.ranking.top_k == Share(1, 2)
    # positives (P1, N1) 0.8 0.7 0.9 0.9 0.6 against negatives 0.1 0.2 0.6 0.3 0.5:
    # every pair won except 0.6 against 0.6, a tie: 24.5 / 25
    assert report.ranking.ad_roc_auc == pytest.approx(0.98)

    assert report.minor_recall == Share(1, 2)  # a5 suspected, a6 not
    assert report.false_minor_rate == Share(1, 4)  # a3 among a1..a4

    flags = report.independent_flags
    # a1, a2 in n1 (not suspected), a3 in n2 and a4 in n3 (suspected)
    assert flags.overall == Share(2, 4)
    assert flags.by_origin_group == {"french": Share(1, 3), "foreign": Share(1, 1),
                                     "unknown": Share(0, 0)}
    assert flags.by_country == [("FR", Share(1, 3)), ("BR", Share(1, 1))]
    assert flags.foreign_french == Ratio(3.0, None)
    assert flags.by_origin == flags.by_country  # two origins only
    # no origin has ORIGIN_MIN_ADS independents' ads: no ratio across origins
    assert flags.origin_min_ads == ORIGIN_MIN_ADS
    assert flags.origin_spread == Spread(None, None, 0, Ratio(None, "too_few_groups"))

    # the networks export does not carry scam_suspected: S1's ad a10 (in n6, not
    # suspected of trafficking) is not flagged; scam recall and precision are undefined
    assert report.scam.flagged_as_trafficking == Share(0, 1)
    assert (report.scam.recall, report.scam.precision) == (None, None)
    assert (c.networks_with_scam_field, c.scam_suspected_networks,
            c.networks_without_scam_field) == (0, 0, 0)


def test_without_networks_export_risk_is_max_ad_risk_and_nothing_is_flagged(
        files: tuple[Path, Path, Path]) -> None:
    truth, ads, _ = files
    report = evaluate_paths(truth, ads, None)
    assert report.counts.networks_export is False
    assert report.counts.suspected_networks == 0
    assert report.counts.predicted_networks == 7
    # max ad risks: n5 0.9, n4 0.8, n2 0.6, n6 0.5, n3 0.3, n1 0.2, n7 0.05
    assert report.ranking.top_k == Share(2, 2)  # N1's n5 and P1's n4
    flags = report.independent_flags
    assert flags.overall == Share(0, 4)
    assert flags.by_origin_group["french"] == Share(0, 3)
    assert flags.foreign_french == Ratio(None, "both_zero")
    assert report.scam.flagged_as_trafficking == Share(0, 1)
    assert (report.scam.recall, report.scam.precision) == (None, None)
    # ad-level figures do not depend on the networks export
    assert report.ranking.ad_roc_auc == pytest.approx(0.98)
    assert report.clustering == pytest.approx(BCubed(0.9, 13 / 15, 234 / 265))


def test_networks_export_that_disagrees_with_ads_export(tmp_path: Path,
                                                        files: tuple[Path, Path, Path]) -> None:
    truth, ads, _ = files
    networks = [n for n in NETWORKS if n[0] != "n4"] + [("n8", 0.99, True)]
    report = evaluate_paths(truth, ads, write_jsonl(tmp_path / "nets.jsonl",
                                                    network_rows(networks)))
    assert report.counts.networks_without_summary == 1  # n4: max ad risk, not flagged
    assert report.counts.networks_without_ads == 1  # n8
    assert report.counts.predicted_networks == 8
    assert report.counts.suspected_networks == 4  # n2 n3 n5 n8
    assert report.ranking.top_k == Share(0, 2)  # n8 (no ads) and n7 (unknown ad)


def test_a_perfect_system_scores_one(tmp_path: Path) -> None:
    truth = truth_rows()
    ads = [{"source": row["source"], "ad_id": row["ad_id"], "network_id": row["controller"],
            "risk": 0.9 if row["controller_kind"] in ("pimp", "network") else 0.1,
            "minor_suspected": row["minor"]} for row in truth]
    report = evaluate_paths(write_jsonl(tmp_path / "t.jsonl", truth),
                            write_jsonl(tmp_path / "a.jsonl", ads), None)
    assert report.clustering == (1.0, 1.0, 1.0)
    assert report.ranking.top_k == Share(2, 2)
    assert report.ranking.ad_roc_auc == 1.0
    assert report.minor_recall == Share(2, 2)
    assert report.false_minor_rate == Share(0, 5)
    assert (report.counts.missing_from_export, report.counts.missing_from_truth) == (0, 0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["n1", "n2", "n3", "n4"]),
                          st.sampled_from([0.0, 0.3, 0.5, 1.0])),
                min_size=len(TRUTH), max_size=len(TRUTH)),
       st.permutations(range(len(TRUTH))), st.permutations(range(len(TRUTH))))
def test_report_matches_metrics_and_ignores_line_order(
        predictions: list[tuple[str, float]], truth_order: list[int],
        ads_order: list[int]) -> None:
    truth = truth_rows()
    ads = [{"source": row["source"], "ad_id": row["ad_id"], "network_id": network,
            "risk": risk, "minor_suspected": False}
           for row, (network, risk) in zip(truth, predictions, strict=True)]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        report = evaluate_paths(write_jsonl(directory / "t1.jsonl", truth),
                                write_jsonl(directory / "a1.jsonl", ads), None)
        shuffled = evaluate_paths(
            write_jsonl(directory / "t2.jsonl", [truth[i] for i in truth_order]),
            write_jsonl(directory / "a2.jsonl", [ads[i] for i in ads_order]), None)
    assert shuffled.to_dict() == report.to_dict()
    assert report.clustering == bcubed(contingency(
        [network for network, _ in predictions], [row["controller"] for row in truth]))
    assert report.ranking.ad_roc_auc == roc_auc(contingency(
        [risk for _, risk in predictions],
        [row["controller_kind"] in ("pimp", "network") for row in truth]))


def test_gzip_inputs(tmp_path: Path, files: tuple[Path, Path, Path]) -> None:
    _, ads, networks = files
    truth = write_jsonl(tmp_path / "truth.jsonl.gz", truth_rows())
    assert evaluate_paths(truth, ads, networks).counts.evaluated_ads == 10


def test_to_dict_is_json_with_every_figure(files: tuple[Path, Path, Path]) -> None:
    data = orjson.loads(orjson.dumps(evaluate_paths(*files).to_dict()))
    assert data["counts"]["evaluated_ads"] == 10
    assert data["counts"]["controllers"]["pimp"] == 1
    assert data["clustering"]["bcubed_precision"] == pytest.approx(0.9)
    assert data["clustering"]["bcubed_recall"] == pytest.approx(13 / 15)
    assert data["ranking"] == {"k": 2, "top_k_precision": {"rate": 0.5, "hits": 1, "total": 2},
                               "ad_roc_auc": pytest.approx(0.98)}
    assert data["minors"]["recall"] == {"rate": 0.5, "hits": 1, "total": 2}
    assert data["minors"]["false_rate_independent"]["rate"] == 0.25
    flags = data["independent_flags"]
    assert flags["by_origin_group"]["unknown"] == {"rate": None, "hits": 0, "total": 0}
    assert flags["by_country"][0] == {"country": "FR", "rate": pytest.approx(1 / 3),
                                      "hits": 1, "total": 3}
    assert flags["foreign_french_ratio"] == {"value": 3.0, "note": None}
    # the keys added for scams and origins; the ones above keep their names
    assert flags["by_origin"][1] == {"origin": "BR", "rate": 1.0, "hits": 1, "total": 1}
    assert flags["origin_ratio"] == {"value": None, "note": "too_few_groups",
                                     "highest": None, "lowest": None, "origins_counted": 0,
                                     "min_ads": ORIGIN_MIN_ADS}
    assert data["scam"] == {"flagged_as_trafficking": {"rate": 0.0, "hits": 0, "total": 1},
                            "recall": None, "precision": None}
    assert (data["counts"]["networks_with_scam_field"],
            data["counts"]["scam_suspected_networks"],
            data["counts"]["networks_without_scam_field"]) == (0, 0, 0)


def rendered(report: Any) -> str:
    console = Console(record=True, width=160, color_system=None)
    console.print(render(report))
    return console.export_text()


def test_render_in_french(files: tuple[Path, Path, Path]) -> None:
    text = rendered(evaluate_paths(*files))
    lines = {line.strip("│ ").split("│")[0].strip(): line for line in text.splitlines()}
    assert "0,900" in lines["Précision B-cubed"]
    assert "0,867" in lines["Rappel B-cubed"]
    assert "0,883" in lines["F1 B-cubed"]
    assert "50,0 % (1 / 2)" in lines["Précision top-k (k = 2)"]
    assert "0,980" in lines["AUC ROC du risque des annonces"]
    assert "25,0 % (1 / 4)" in text
    assert "3,00" in lines["Rapport étrangère / française"]
    assert "33,3 % (1 / 3)" in lines["Pays : FR"]
    assert "indéfini (0 / 0)" in lines["Origine inconnue"]
    assert "seules annonces présentes des deux côtés" in text


def test_render_explains_undefined_ratio_and_missing_networks_export(
        files: tuple[Path, Path, Path]) -> None:
    truth, ads, _ = files
    text = rendered(evaluate_paths(truth, ads, None))
    assert "0/0" in text
    assert "Sans export des réseaux" in text


def test_render_infinite_ratio(tmp_path: Path) -> None:
    truth = write_jsonl(tmp_path / "t.jsonl", [
        {"source": "s", "ad_id": "1", "controller": "I1", "controller_kind": "independent",
         "person": "p1", "minor": False, "origin": "FR", "origin_group": "french"},
        {"source": "s", "ad_id": "2", "controller": "I2", "controller_kind": "independent",
         "person": "p2", "minor": False, "origin": "BR", "origin_group": "foreign"}])
    ads = write_jsonl(tmp_path / "a.jsonl", [
        {"source": "s", "ad_id": "1", "network_id": "n1", "risk": 0, "minor_suspected": False},
        {"source": "s", "ad_id": "2", "network_id": "n2", "risk": 1, "minor_suspected": False}])
    networks = write_jsonl(tmp_path / "n.jsonl", [
        {"network_id": "n1", "risk": 0.0, "trafficking_suspected": False},
        {"network_id": "n2", "risk": 1.0, "trafficking_suspected": True}])
    report = evaluate_paths(truth, ads, networks)
    assert report.independent_flags.foreign_french == Ratio(None, "infinite")
    assert report.ranking.k == 0
    assert report.ranking.top_k.value is None  # no trafficking controller: undefined
    assert report.ranking.ad_roc_auc is None  # no positive ad
    assert report.minor_recall.value is None
    assert "infini" in rendered(report)


def test_empty_inputs_give_undefined_figures(tmp_path: Path) -> None:
    empty = write_jsonl(tmp_path / "empty.jsonl", [])
    report = evaluate_paths(empty, empty, None)
    assert report.counts.evaluated_ads == 0
    assert report.clustering is None
    assert report.to_dict()["clustering"]["bcubed_f1"] is None
    assert "indéfini" in rendered(report)


# --- scams ------------------------------------------------------------------------------
#
# Scams S1 (b1, b2, b3) and S2 (b4), pimp P1 (b5), independent I1 (b6). Predicted networks:
# m1 = b1, b2, b6, suspected of a scam only; m2 = b3, of trafficking only; m3 = b4, b5,
# of both.

SCAM_TRUTH = [("b1", "S1", "scam"), ("b2", "S1", "scam"), ("b3", "S1", "scam"),
              ("b4", "S2", "scam"), ("b5", "P1", "pimp"), ("b6", "I1", "independent")]
SCAM_ADS = [("b1", "m1"), ("b2", "m1"), ("b3", "m2"), ("b4", "m3"), ("b5", "m3"),
            ("b6", "m1")]
# network, risk, trafficking suspected, scam suspected
SCAM_NETWORKS = [("m1", 0.3, False, True), ("m2", 0.8, True, False), ("m3", 0.9, True, True)]


def scam_files(tmp_path: Path, networks: list[dict[str, Any]] | None
               ) -> tuple[Path, Path, Path | None]:
    truth = [{"source": "s", "ad_id": ad, "controller": controller, "controller_kind": kind,
              "person": f"p-{ad}", "minor": False, "origin": "FR", "origin_group": "french"}
             for ad, controller, kind in SCAM_TRUTH]
    ads = [{"source": "s", "ad_id": ad, "network_id": network, "risk": 0.5,
            "minor_suspected": False} for ad, network in SCAM_ADS]
    return (write_jsonl(tmp_path / "truth.jsonl", truth),
            write_jsonl(tmp_path / "ads.jsonl", ads),
            None if networks is None else write_jsonl(tmp_path / "networks.jsonl", networks))


def scam_network_rows(without_field: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for network, risk, trafficking, scam in SCAM_NETWORKS:
        row = {"network_id": network, "ads": 1, "risk": risk,
               "trafficking_suspected": trafficking, "minor_suspected": False,
               "scam_suspected": scam, "reasons": []}
        if network in without_field:
            del row["scam_suspected"]
        rows.append(row)
    return rows


def test_scam_figures(tmp_path: Path) -> None:
    report = evaluate_paths(*scam_files(tmp_path, scam_network_rows()))
    # scam ads b1..b4; b3 (m2) and b4 (m3) sit in networks suspected of trafficking
    assert report.scam.flagged_as_trafficking == Share(2, 4)
    # b1, b2 (m1) and b4 (m3) sit in networks suspected of a scam
    assert report.scam.recall == Share(3, 4)
    # the ads of m1 and m3: b1, b2, b6, b4, b5, of which b1, b2, b4 are scam ads
    assert report.scam.precision == Share(3, 5)
    c = report.counts
    assert (c.networks_with_scam_field, c.scam_suspected_networks,
            c.networks_without_scam_field) == (3, 2, 0)
    assert report.to_dict()["scam"] == {
        "flagged_as_trafficking": {"rate": 0.5, "hits": 2, "total": 4},
        "recall": {"rate": 0.75, "hits": 3, "total": 4},
        "precision": {"rate": 0.6, "hits": 3, "total": 5}}
    text = rendered(report)
    lines = {line.strip("│ ").split("│")[0].strip(): line for line in text.splitlines()}
    assert "50,0 % (2 / 4)" in lines["Annonces d'arnaque dans un réseau signalé pour traite"]
    assert "75,0 % (3 / 4)" in lines["Rappel arnaques (annonces d'arnaque dans un réseau "
                                     "signalé comme arnaque)"]
    assert "60,0 % (3 / 5)" in lines["Précision arnaques (annonces des réseaux signalés "
                                     "comme arnaque)"]
    assert "scam_suspected" not in text


def test_scam_field_on_some_lines_only(tmp_path: Path) -> None:
    # m3 lacks the field: it counts as not suspected of a scam, and the line is counted
    report = evaluate_paths(*scam_files(tmp_path, scam_network_rows(without_field=("m3",))))
    assert report.scam.flagged_as_trafficking == Share(2, 4)
    assert report.scam.recall == Share(2, 4)  # b1, b2
    assert report.scam.precision == Share(2, 3)  # b1, b2 among b1, b2, b6
    c = report.counts
    assert (c.networks_with_scam_field, c.scam_suspected_networks,
            c.networks_without_scam_field) == (2, 1, 1)
    assert "1 réseau(x) de l'export des réseaux sans scam_suspected" in rendered(report)


def test_scam_field_absent_everywhere(tmp_path: Path) -> None:
    report = evaluate_paths(*scam_files(tmp_path, scam_network_rows(
        without_field=("m1", "m2", "m3"))))
    # trafficking flags do not need the field
    assert report.scam.flagged_as_trafficking == Share(2, 4)
    assert (report.scam.recall, report.scam.precision) == (None, None)
    assert report.counts.networks_without_scam_field == 0  # no line has it: not a mixture
    data = report.to_dict()
    assert data["scam"]["recall"] is None and data["scam"]["precision"] is None
    text = rendered(report)
    assert text.count("indéfini : aucun réseau exporté ne porte scam_suspected") == 3


def test_scam_figures_without_networks_export(tmp_path: Path) -> None:
    report = evaluate_paths(*scam_files(tmp_path, None))
    assert report.scam.flagged_as_trafficking == Share(0, 4)  # nothing is suspected
    assert (report.scam.recall, report.scam.precision) == (None, None)


def test_scam_field_false_everywhere_gives_zero_recall_and_undefined_precision(
        tmp_path: Path) -> None:
    rows = [row | {"scam_suspected": False} for row in scam_network_rows()]
    report = evaluate_paths(*scam_files(tmp_path, rows))
    assert report.scam.recall == Share(0, 4)
    assert report.scam.precision == Share(0, 0)  # no ad in a scam network: undefined
    assert report.to_dict()["scam"]["precision"] == {"rate": None, "hits": 0, "total": 0}


# --- independents' flags by presented origin ---------------------------------------------
#
# Independents' ads by presented origin, flagged (in network "t", suspected of trafficking)
# or not ("u"): RO 1 of 5 (20 %), FR 1 of 4 (25 %), BR 1 of 2 (50 %), and 3 ads with no
# stated origin, one flagged.

ORIGIN_ADS = ([("RO", True)] + [("RO", False)] * 4 + [("FR", True)] + [("FR", False)] * 3
              + [("BR", True), ("BR", False)] + [(None, True)] + [(None, False)] * 2)


def origin_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    truth, ads = [], []
    for number, (origin, flagged) in enumerate(ORIGIN_ADS):
        group = "unknown" if origin is None else "french" if origin == "FR" else "foreign"
        truth.append({"source": "s", "ad_id": str(number), "controller": f"I{number}",
                      "controller_kind": "independent", "person": f"p{number}",
                      "minor": False, "origin": origin, "origin_group": group})
        ads.append({"source": "s", "ad_id": str(number), "network_id": "t" if flagged
                    else "u", "risk": 0.5, "minor_suspected": False})
    networks = [{"network_id": "t", "risk": 0.9, "trafficking_suspected": True},
                {"network_id": "u", "risk": 0.1, "trafficking_suspected": False}]
    return (write_jsonl(tmp_path / "truth.jsonl", truth),
            write_jsonl(tmp_path / "ads.jsonl", ads),
            write_jsonl(tmp_path / "networks.jsonl", networks))


def test_flags_by_origin_and_ratio_across_origins(tmp_path: Path) -> None:
    files = origin_files(tmp_path)
    # at least 3 ads: RO 20 % and FR 25 % count, BR (2 ads) does not: 25 / 20 = 1.25
    flags = evaluate_paths(*files, top_countries=2, origin_min_ads=3).independent_flags
    assert flags.by_country == [("RO", Share(1, 5)), ("FR", Share(1, 4))]  # the top 2
    assert flags.by_origin == [("RO", Share(1, 5)), ("FR", Share(1, 4)), ("BR", Share(1, 2))]
    assert flags.origin_min_ads == 3
    assert flags.origin_spread.highest == "FR" and flags.origin_spread.lowest == "RO"
    assert flags.origin_spread.groups == 2
    assert flags.origin_spread.ratio.value == pytest.approx(1.25)
    # at least 2 ads: BR 50 % over RO 20 % = 2.5, three origins
    report = evaluate_paths(*files, origin_min_ads=2)
    assert report.independent_flags.origin_spread == Spread("BR", "RO", 3, Ratio(2.5, None))
    # the French / foreign groups are unchanged: FR 1 / 4, foreign 2 / 7
    assert report.independent_flags.by_origin_group["foreign"] == Share(2, 7)
    data = report.to_dict()["independent_flags"]
    assert data["origin_ratio"] == {"value": 2.5, "note": None, "highest": "BR",
                                    "lowest": "RO", "origins_counted": 3, "min_ads": 2}
    assert [row["origin"] for row in data["by_origin"]] == ["RO", "FR", "BR"]
    text = rendered(report)
    assert "Rapport max / min entre origines présentées (≥ 2 annonces)" in text
    assert "2,50 (BR 50,0 % / RO 20,0 %, 3 origines)" in text
    # at least 5 ads: RO alone
    alone = evaluate_paths(*files, origin_min_ads=5).independent_flags.origin_spread
    assert alone == Spread(None, None, 1, Ratio(None, "too_few_groups"))
    assert "moins de deux origines" in rendered(evaluate_paths(*files, origin_min_ads=5))


# --- inputs that break their contract ----------------------------------------------------


def with_line(rows: list[dict[str, Any]], index: int, **changes: Any) -> list[dict[str, Any]]:
    rows = [dict(row) for row in rows]
    rows[index].update(changes)
    return rows


@pytest.mark.parametrize(("which", "rows", "line", "reason"), [
    ("truth", truth_rows() + truth_rows()[:1], 12, "duplicate ad site:a1"),
    ("truth", with_line(truth_rows(), 2, controller_kind="boss"), 3, "controller_kind"),
    # P1 is first met as an independent (line 3), then as a pimp (line 5)
    ("truth", with_line(truth_rows(), 2, controller="P1"), 5,
     "controller 'P1' is 'independent' on an earlier line, not 'pimp'"),
    ("truth", with_line(truth_rows(), 2, minor="no"), 3, "minor must be"),
    ("truth", with_line(truth_rows(), 2, origin_group="FR"), 3, "origin_group"),
    ("truth", with_line(truth_rows(), 2, origin=33), 3, "origin must be"),
    ("ads", with_line(ads_rows(), 2, risk=1.5), 3, "risk must be"),
    ("ads", with_line(ads_rows(), 2, risk=True), 3, "risk must be"),
    ("ads", with_line(ads_rows(), 2, risk=None), 3, "risk must be"),
    ("ads", with_line(ads_rows(), 2, network_id=None), 3, "network_id"),
    ("ads", with_line(ads_rows(), 2, minor_suspected=None), 3, "minor_suspected"),
    ("ads", ads_rows() + ads_rows()[:1], 12, "duplicate ad site:a1"),
    ("ads", ads_rows() + ads_rows()[-1:], 12, "duplicate ad site:x1"),
    ("networks", network_rows() + network_rows()[:1], 8, "duplicate network n1"),
    ("networks", with_line(network_rows(), 2, trafficking_suspected=1), 3,
     "trafficking_suspected"),
    ("networks", with_line(network_rows(), 2, risk=-0.1), 3, "risk must be"),
    ("networks", with_line(network_rows(), 2, scam_suspected=1), 3, "scam_suspected"),
    ("networks", with_line(network_rows(), 2, scam_suspected=None), 3, "scam_suspected"),
])
def test_contract_breaches_name_file_and_line(tmp_path: Path, files: tuple[Path, Path, Path],
                                              which: str, rows: list[dict[str, Any]],
                                              line: int, reason: str) -> None:
    paths = dict(zip(("truth", "ads", "networks"), files, strict=True))
    paths[which] = write_jsonl(tmp_path / f"bad-{which}.jsonl", rows)
    with pytest.raises(EvaluationInputError) as caught:
        evaluate_paths(paths["truth"], paths["ads"], paths["networks"])
    assert caught.value.path == paths[which]
    assert caught.value.line == line
    assert reason in str(caught.value)


def test_missing_field_and_bad_json(tmp_path: Path, files: tuple[Path, Path, Path]) -> None:
    truth, ads, _ = files
    rows = truth_rows()
    del rows[4]["controller"]
    with pytest.raises(EvaluationInputError, match=r":5: missing field 'controller'"):
        evaluate_paths(write_jsonl(tmp_path / "t.jsonl", rows), ads, None)
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(orjson.dumps(ads_rows()[0]) + b"\n\n{not json\n")
    with pytest.raises(EvaluationInputError, match=r"broken.jsonl:3: invalid JSON"):
        evaluate_paths(truth, broken, None)


def test_unreadable_file_is_an_os_error(tmp_path: Path, files: tuple[Path, Path, Path]) -> None:
    truth, _, _ = files
    with pytest.raises(OSError):
        evaluate_paths(truth, tmp_path / "absent.jsonl", None)
