"""Which records are the same person: Splink (DuckDB backend), settings in, pairs out.

``resolve`` takes person records (one source to deduplicate, or several to link) and the
settings of ``resolution.toml``, trains Splink's model on the records themselves, and
returns the scored pairs split by the explicit thresholds: matches (the same person),
pairs to review (an analyst decides), and the clusters the matches make. Nothing is written
here: keeping merges, undoing them and recording reviews belong to the case files.

Records are dictionaries (or a pandas DataFrame) with a unique ``record_id`` and the fields
of the settings' comparisons; a missing field is None. Dates are ISO (``YYYY-MM-DD``).
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd

UNIQUE_ID = "record_id"
SOURCE = "source_dataset"


@dataclass(frozen=True)
class ResolutionSettings:
    match: float
    review: float
    comparisons: Mapping[str, Mapping[str, Any]]
    blocking: tuple[tuple[str, ...], ...]
    deterministic_rules: tuple[tuple[str, ...], ...]
    deterministic_recall: float
    u_max_pairs: int
    seed: int
    em_sessions: tuple[tuple[str, ...], ...]


def load_settings(path: Path | None = None) -> ResolutionSettings:
    """The shipped settings (``resolution.toml``), or another file of the same shape."""
    if path is None:
        text = (resources.files(__package__) / "resolution.toml").read_text("utf-8")
    else:
        text = path.read_text("utf-8")
    raw = tomllib.loads(text)
    match, review = float(raw["thresholds"]["match"]), float(raw["thresholds"]["review"])
    if not 0 < review <= match < 1:
        raise ValueError("thresholds: 0 < review <= match < 1")
    training = raw["training"]
    return ResolutionSettings(
        match=match, review=review, comparisons=dict(raw["comparisons"]),
        blocking=tuple(tuple(rule) for rule in raw["blocking"]["rules"]),
        deterministic_rules=tuple(tuple(r) for r in training["deterministic_rules"]),
        deterministic_recall=float(training["deterministic_recall"]),
        u_max_pairs=int(training["u_max_pairs"]), seed=int(training["seed"]),
        em_sessions=tuple(tuple(s) for s in training["em_sessions"]))


def _comparison(field: str, spec: Mapping[str, Any]) -> Any:
    import splink.comparison_library as cl

    kind = spec["kind"]
    comparison: Any
    if kind == "name":
        comparison = cl.NameComparison(field)
    elif kind == "date":
        # ISO strings: splink 4.0's date levels ignore another format (its issue #2714).
        comparison = cl.DateOfBirthComparison(field, input_is_string=True,
                                              invalid_dates_as_null=False)
    elif kind == "edits":
        comparison = cl.DamerauLevenshteinAtThresholds(field, list(spec["edits"]))
    elif kind == "exact":
        comparison = cl.ExactMatch(field)
    else:
        raise ValueError(f"comparison of {field}: unknown kind {kind!r}")
    if spec.get("term_frequencies"):
        comparison = comparison.configure(term_frequency_adjustments=True)
    return comparison


@dataclass
class Resolution:
    """Scored pairs (``record_id_l``, ``record_id_r``, ``match_probability``, with the
    source of each side when linking), split by the thresholds, and the clusters."""

    matches: pd.DataFrame
    to_review: pd.DataFrame
    clusters: dict[str, str]  # record_id -> cluster id (its first record), matches only


def resolve(sources: Mapping[str, Iterable[Mapping[str, Any]] | pd.DataFrame],
            settings: ResolutionSettings | None = None, *, link_only: bool = False,
            threads: int | None = None) -> Resolution:
    """Resolve the people of one source (deduplicate) or of several (link them, and
    deduplicate within each too unless ``link_only``)."""
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    settings = settings or load_settings()
    frames = [_frame(name, records) for name, records in sources.items()]
    link_type: Literal["link_only", "link_and_dedupe", "dedupe_only"] = (
        "dedupe_only" if len(frames) == 1 else "link_only" if link_only else "link_and_dedupe")
    creator = SettingsCreator(
        link_type=link_type, unique_id_column_name=UNIQUE_ID,
        blocking_rules_to_generate_predictions=[block_on(*r) for r in settings.blocking],
        comparisons=[_comparison(f, spec) for f, spec in settings.comparisons.items()],
        retain_intermediate_calculation_columns=False)
    con = duckdb.connect()
    logging.getLogger("splink").setLevel(logging.WARNING)
    linker = Linker(frames if len(frames) > 1 else frames[0], creator,
                    db_api=DuckDBAPI(connection=con), set_up_basic_logging=False)
    # Training on one thread: Splink's seeded sampling is repeatable only so.
    con.execute("SET threads = 1")
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*r) for r in settings.deterministic_rules],
        recall=settings.deterministic_recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=settings.u_max_pairs,
                                                     seed=settings.seed)
    for session in settings.em_sessions:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*session))
    con.execute(f"SET threads = {threads or os.cpu_count() or 1}")
    predictions = linker.inference.predict(threshold_match_probability=settings.review)
    pairs = predictions.as_pandas_dataframe()
    keep = [c for c in (f"{UNIQUE_ID}_l", f"{UNIQUE_ID}_r", f"{SOURCE}_l", f"{SOURCE}_r",
                        "match_probability") if c in pairs.columns]
    pairs = pairs[keep]
    matched = pairs["match_probability"] >= settings.match
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=settings.match).as_pandas_dataframe()
    clusters = dict(zip(clustered[UNIQUE_ID].astype(str), clustered["cluster_id"].astype(str),
                        strict=True))
    return Resolution(pairs[matched].reset_index(drop=True),
                      pairs[~matched].reset_index(drop=True), clusters)


def _frame(name: str, records: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    frame = records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    if UNIQUE_ID not in frame.columns:
        raise ValueError(f"source {name}: every record needs a {UNIQUE_ID}")
    frame[UNIQUE_ID] = frame[UNIQUE_ID].astype(str)
    if frame[UNIQUE_ID].duplicated().any():
        raise ValueError(f"source {name}: {UNIQUE_ID} must be unique")
    frame[SOURCE] = name
    return frame


def pairwise_scores(predicted: Sequence[tuple[str, str]],
                    true: Iterable[tuple[str, str]]) -> tuple[float, float, float]:
    """Precision, recall and F1 of predicted pairs against true ones (order ignored)."""
    found = {tuple(sorted(p)) for p in predicted}
    truth = {tuple(sorted(p)) for p in true}
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return precision, recall, f1
