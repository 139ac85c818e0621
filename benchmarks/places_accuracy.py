"""Accuracy and speed of place normalisation on place strings as ads write them.

The base cases in ``data/places_cases.tsv`` are hand-labelled with the expected département
(from geography, not from running faisceau): location fields, free-text sentences, and
sentences that name no place. This script derives a deterministic test set from them:
every location field in several spellings (lower case, upper case, accents dropped, hyphens
as spaces, "St"/"Ste"), and every town name also embedded in an ad sentence.

Run: ``python benchmarks/places_accuracy.py`` (``--show-misses`` lists the failures).
Prints the count, the share mapped to the right département (target >= 0.97), the share
mapped to a wrong one, the share of place-free sentences where a place was found, and
µs per call with and without the short-text cache.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from faisceau.normalise import places

CASES_PATH = Path(__file__).parent / "data" / "places_cases.tsv"
SEED = 20_240_617
TARGET = 0.97

# Sentences a town name is embedded in. All but the last give the usual context words;
# the last starts the text with the name, as ad titles do.
TEMPLATES = (
    "Nouvelle à {x}, je reçois en toute discrétion.",
    "Belle femme disponible sur {x} et environs.",
    "Je me déplace sur {x}, appelez-moi.",
    "Massage relaxant, secteur {x}, pas de SMS.",
    "Dispo {x} du lundi au samedi.",
    "Jolie brune de passage à {x} cette semaine.",
    "Rdv hôtel ou domicile, quartier {x}.",
    "{x} - nouvelle, appelez-moi.",
)


@dataclass(frozen=True)
class Case:
    text: str
    departement: str  # "" when the text names no place
    kind: str  # field, text or none


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "OE"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _variants(text: str) -> list[str]:
    forms = [
        text.lower(),
        text.upper(),
        _strip_accents(text),
        text.replace("-", " "),
        text.replace("Saint-", "St-").replace("Sainte-", "Ste-"),
        _strip_accents(text.lower()).replace("-", " "),
    ]
    out: list[str] = []
    for form in forms:
        if form != text and form not in out:
            out.append(form)
    return out


def base_cases(path: Path = CASES_PATH) -> list[Case]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")),
                              delimiter="\t")
        return [Case(row["text"], row["departement"], row["kind"]) for row in rows]


def build_cases(path: Path = CASES_PATH) -> list[Case]:
    """The full deterministic test set derived from the hand-labelled base cases."""
    rng = random.Random(SEED)
    cases: list[Case] = []
    for base in base_cases(path):
        cases.append(base)
        if base.kind != "field":
            continue
        cases.extend(Case(v, base.departement, "field") for v in _variants(base.text))
        if any(c.isalpha() for c in base.text) and not base.text.startswith(("(", "dep")):
            template = TEMPLATES[rng.randrange(len(TEMPLATES))]
            cases.append(Case(template.format(x=base.text), base.departement, "text"))
    return cases


def predicted_departement(case: Case) -> str | None:
    """The département faisceau reads: resolve_place for fields, first place for text."""
    if case.kind == "field":
        found = places.resolve_place(case.text)
        return found.detail.get("departement") if found and found.detail else None
    for item in places.find_places(case.text):
        if item.detail and item.detail.get("departement"):
            return str(item.detail["departement"])
    return None


@dataclass(frozen=True)
class Report:
    count: int
    right: float
    wrong: float
    unmapped: float
    negatives: int
    false_positives: float
    misses: list[tuple[Case, str | None]]


def evaluate(cases: list[Case] | None = None) -> Report:
    cases = cases if cases is not None else build_cases()
    positives = [c for c in cases if c.kind != "none"]
    negatives = [c for c in cases if c.kind == "none"]
    right = wrong = 0
    misses: list[tuple[Case, str | None]] = []
    for case in positives:
        got = predicted_departement(case)
        if got == case.departement:
            right += 1
            continue
        if got is not None:
            wrong += 1
        misses.append((case, got))
    noisy = [c for c in negatives if places.find_places(c.text)]
    misses.extend((c, "found") for c in noisy)
    n = len(positives)
    return Report(
        count=len(cases),
        right=right / n,
        wrong=wrong / n,
        unmapped=(n - right - wrong) / n,
        negatives=len(negatives),
        false_positives=len(noisy) / len(negatives) if negatives else 0.0,
        misses=misses,
    )


def _time_calls(cases: list[Case], cached: bool) -> tuple[float, float]:
    """µs per call for fields and for free text; cold runs clear the short-text cache."""
    fields = [c.text for c in cases if c.kind == "field"]
    texts = [c.text for c in cases if c.kind != "field"]
    results = []
    for strings, call in ((fields, places.resolve_place), (texts, places.find_places)):
        if cached:
            for s in strings:
                call(s)
        else:
            places._cached.cache_clear()
        start = time.perf_counter()
        for s in strings:
            call(s)
        results.append((time.perf_counter() - start) / len(strings) * 1e6)
    return results[0], results[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    places.departement_name("75")  # loads the reference
    load = time.perf_counter() - start
    cases = build_cases()
    report = evaluate(cases)
    field_cold, text_cold = _time_calls(cases, cached=False)
    field_warm, text_warm = _time_calls(cases, cached=True)
    by_kind = {k: sum(1 for c in cases if c.kind == k) for k in ("field", "text", "none")}

    print(f"reference: {places.reference_source()}, loaded in {load * 1000:.0f} ms")
    print(f"cases: {report.count} ({by_kind['field']} fields, {by_kind['text']} sentences, "
          f"{by_kind['none']} sentences naming no place)")
    print(f"right département: {report.right:.3f} (target {TARGET})")
    print(f"wrong département: {report.wrong:.3f}")
    print(f"no département: {report.unmapped:.3f}")
    print(f"place found in place-free sentences: {report.false_positives:.3f}")
    print(f"µs per call, uncached: field {field_cold:.1f}, free text {text_cold:.1f}")
    print(f"µs per call, cached: field {field_warm:.1f}, free text {text_warm:.1f}")
    if args.show_misses:
        for case, got in report.misses:
            print(f"  {case.kind:5} {case.departement or '-':>3} got {got!s:>5}  {case.text}")


if __name__ == "__main__":
    main()
