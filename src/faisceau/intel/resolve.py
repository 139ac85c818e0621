"""Which records are the same person: Splink (DuckDB backend), settings in, pairs out.

``resolve`` takes person records (one source to deduplicate, or several to link) and the
settings of ``resolution.toml``, trains Splink's model on the records themselves, and
returns the scored pairs split by the explicit thresholds: matches (the same person),
pairs to review (an analyst decides), and the clusters the matches make. Nothing is written
here: keeping merges, undoing them and recording reviews belong to the case files.

Records are dictionaries (or a pandas DataFrame) with a unique ``record_id`` and the fields
of the settings' comparisons; a missing field is None. Dates are ISO (``YYYY-MM-DD``); a
``birth`` field also takes a year alone (``YYYY``); an ``array`` field is a list of values
(phones, e-mails), and a blocking rule on it pairs records sharing any one of them.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

# pandas, duckdb and splink take seconds to import: only when people are resolved, not for
# every command that reads this module's settings or types.
if TYPE_CHECKING:
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
    # Instead of deterministic rules: the expected number of matching pairs per record,
    # from which the prior (two random records match) follows whatever the number of records.
    matches_per_record: float | None = None


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
    rules = tuple(tuple(r) for r in training.get("deterministic_rules", ()))
    per_record = training.get("matches_per_record")
    if not rules and per_record is None:
        raise ValueError("training: deterministic_rules or matches_per_record")
    return ResolutionSettings(
        match=match, review=review, comparisons=dict(raw["comparisons"]),
        blocking=tuple(tuple(rule) for rule in raw["blocking"]["rules"]),
        deterministic_rules=rules,
        deterministic_recall=float(training.get("deterministic_recall", 1.0)),
        u_max_pairs=int(training["u_max_pairs"]), seed=int(training["seed"]),
        em_sessions=tuple(tuple(s) for s in training.get("em_sessions", ())),
        matches_per_record=None if per_record is None else float(per_record))


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
    elif kind == "birth":
        comparison = _birth_comparison(field)
    elif kind == "array":
        comparison = cl.ArrayIntersectAtSizes(field, list(spec.get("sizes", [1])))
    else:
        raise ValueError(f"comparison of {field}: unknown kind {kind!r}")
    if spec.get("term_frequencies"):
        comparison = comparison.configure(term_frequency_adjustments=True)
    # m and u probabilities given, most similar level first (no null level); training
    # replaces the u probabilities it observes, and EM the m probabilities.
    if "m" in spec:
        comparison = comparison.configure(m_probabilities=[float(m) for m in spec["m"]])
    if "u" in spec:
        comparison = comparison.configure(u_probabilities=[float(u) for u in spec["u"]])
    return comparison


def _birth_comparison(field: str) -> Any:
    """Birth dates, full (``YYYY-MM-DD``) or a year alone (``YYYY``, as files give it for
    people born abroad): the same full date; one typing error between two full dates; the
    same year where one side (or both) gives a year alone; a year apart at most; anything
    else. Two equal years alone are no more than a year in common."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    left, right = f'"{field}_l"', f'"{field}_r"'
    full = f"length({left}) = 10 AND length({right}) = 10"
    year_l, year_r = f"substr({left}, 1, 4)", f"substr({right}, 1, 4)"
    return cl.CustomComparison(output_column_name=field, comparison_levels=[
        cll.NullLevel(field),
        cll.CustomLevel(f"{full} AND {left} = {right}", "exact"),
        cll.CustomLevel(f"{full} AND damerau_levenshtein({left}, {right}) <= 1",
                        "one edit"),
        cll.CustomLevel(f"(length({left}) = 4 OR length({right}) = 4) AND {year_l} = {year_r}",
                        "year alone, same year"),
        cll.CustomLevel(f"abs(TRY_CAST({year_l} AS INTEGER) - TRY_CAST({year_r} AS INTEGER)) "
                        "<= 1", "within a year"),
        cll.ElseLevel(),
    ])


def _block(rule: Sequence[str], arrays: Sequence[str]) -> Any:
    from splink import block_on

    exploded = [f for f in rule if f in arrays]
    return block_on(*rule, arrays_to_explode=exploded or None)


@dataclass
class Resolution:
    """Scored pairs (``record_id_l``, ``record_id_r``, ``match_probability``, with the
    source of each side when linking), split by the thresholds, and the clusters.

    With ``detail``, the pairs also have ``match_weight`` and, per compared field, its
    comparison level (``gamma_<field>``, named in ``levels``), Bayes factor (``bf_<field>``)
    and, with term frequencies, its adjustment (``bf_tf_adj_<field>``)."""

    matches: pd.DataFrame
    to_review: pd.DataFrame
    clusters: dict[str, str]  # record_id -> cluster id (its first record), matches only
    # Compared field -> comparison level (gamma) -> its label.
    levels: dict[str, dict[int, str]] = dataclasses.field(default_factory=dict)


def resolve(sources: Mapping[str, Iterable[Mapping[str, Any]] | pd.DataFrame],
            settings: ResolutionSettings | None = None, *, link_only: bool = False,
            threads: int | None = None, detail: bool = False, quiet: bool = False
            ) -> Resolution:
    """Resolve the people of one source (deduplicate) or of several (link them, and
    deduplicate within each too unless ``link_only``)."""
    import duckdb
    from splink import DuckDBAPI, Linker, SettingsCreator

    settings = settings or load_settings()
    frames = [_frame(name, records) for name, records in sources.items()]
    link_type: Literal["link_only", "link_and_dedupe", "dedupe_only"] = (
        "dedupe_only" if len(frames) == 1 else "link_only" if link_only else "link_and_dedupe")
    arrays = [f for f, spec in settings.comparisons.items() if spec["kind"] == "array"]
    creator = SettingsCreator(
        link_type=link_type, unique_id_column_name=UNIQUE_ID,
        blocking_rules_to_generate_predictions=[_block(r, arrays) for r in settings.blocking],
        comparisons=[_comparison(f, spec) for f, spec in settings.comparisons.items()],
        retain_intermediate_calculation_columns=detail,
        probability_two_random_records_match=_prior(settings, [len(f) for f in frames],
                                                     link_type))
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # no progress bars on the user's terminal
    # Splink's warnings (a level never observed in training...) only with ``quiet`` off.
    logging.getLogger("splink").setLevel(logging.ERROR if quiet else logging.WARNING)
    linker = Linker(frames if len(frames) > 1 else frames[0], creator,
                    db_api=DuckDBAPI(connection=con), set_up_basic_logging=False)
    # Training on one thread: Splink's seeded sampling is repeatable only so.
    con.execute("SET threads = 1")
    if settings.deterministic_rules:
        linker.training.estimate_probability_two_random_records_match(
            [_block(r, arrays) for r in settings.deterministic_rules],
            recall=settings.deterministic_recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=settings.u_max_pairs,
                                                     seed=settings.seed)
    for session in settings.em_sessions:
        linker.training.estimate_parameters_using_expectation_maximisation(
            _block(session, arrays))
    con.execute(f"SET threads = {threads or os.cpu_count() or 1}")
    predictions = linker.inference.predict(threshold_match_probability=settings.review)
    pairs = predictions.as_pandas_dataframe()
    keep = [c for c in (f"{UNIQUE_ID}_l", f"{UNIQUE_ID}_r", f"{SOURCE}_l", f"{SOURCE}_r",
                        "match_probability") if c in pairs.columns]
    levels: dict[str, dict[int, str]] = {}
    if detail:
        keep += ["match_weight", *(c for c in pairs.columns if c.startswith(("gamma_", "bf_")))]
        for comparison in linker.misc.save_model_to_json()["comparisons"]:
            levels[comparison["output_column_name"]] = _level_labels(
                comparison["comparison_levels"])
    pairs = pairs[keep]
    matched = pairs["match_probability"] >= settings.match
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=settings.match).as_pandas_dataframe()
    clusters = dict(zip(clustered[UNIQUE_ID].astype(str), clustered["cluster_id"].astype(str),
                        strict=True))
    return Resolution(pairs[matched].reset_index(drop=True),
                      pairs[~matched].reset_index(drop=True), clusters, levels)


def _prior(settings: ResolutionSettings, sizes: Sequence[int], link_type: str) -> float:
    """The probability that two random records match: from ``matches_per_record`` when the
    settings give it, else Splink's default until deterministic rules estimate it."""
    if settings.matches_per_record is None:
        return 0.0001
    records = sum(sizes)
    if link_type == "link_only":
        pairs = sum(a * b for i, a in enumerate(sizes) for b in sizes[i + 1:])
    else:
        pairs = records * (records - 1) // 2
    return min(0.5, settings.matches_per_record * records / max(pairs, 1))


def _level_labels(levels: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    """Splink's numbering of a comparison's levels: -1 for the null level, then the others
    from the most similar (highest) down to 0 for "anything else"."""
    labels = {}
    value = sum(1 for level in levels if not level.get("is_null_level"))
    for level in levels:
        label = str(level.get("label_for_charts") or level["sql_condition"])
        if level.get("is_null_level"):
            labels[-1] = label
        else:
            value -= 1
            labels[value] = label
    return labels


def _frame(name: str, records: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

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
