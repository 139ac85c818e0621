"""InfoShield-Coarse, reimplemented as a baseline for faisceau's ad linking.

InfoShield (M.-C. Lee, C. Vajiac et al., "InfoShield: Generalizable Information-Theoretic
Human-Trafficking Detection", 2021; extended with an incremental version as "DeltaShield:
Information Theory for Human-Trafficking Detection", ACM TKDD 2023) finds micro-clusters
of near-duplicate escort ads in two steps:

- InfoShield-Coarse, reproduced here: every document is cut into word 5-grams
  ("phrases"), each phrase of a document gets a TF-IDF weight over the whole corpus, the
  document keeps its top-k phrases (k = 5), and the document–phrase bipartite graph is
  built; its connected components (documents joined through a shared top phrase) are the
  coarse clusters. A document with no 5-gram, or whose top phrases nobody else has, is a
  singleton.
- InfoShield-Fine, NOT reproduced: inside each coarse cluster, a multiple alignment of the
  documents into templates with "slots", kept or split by minimum description length
  (MDL). It only refines (splits) coarse clusters and labels documents as outliers, so the
  coarse clusters bound what the whole method can link.

What is reproduced, from the published code of the authors (``infoshieldcoarse.py`` of
the InfoShield repository, which runs Coarse with ``num_phrases=5``):

- text filtering (``--preprocess infoshield``, the default): digits deleted, every run of
  non-ASCII characters (accents, emoji...) replaced by a space, HTML tags and ``&nbsp;`` /
  ``<br>`` debris deleted; tokens are then the runs of non-space characters, case and
  punctuation kept (scikit-learn ``TfidfVectorizer(token_pattern=r'[^\\s]+',
  lowercase=False)``);
- TF-IDF as scikit-learn computes it there (``ngram_range=(5, 5)``, ``sublinear_tf=True``,
  smooth idf, l2 norm): weight = (1 + ln tf) · (ln((1 + N) / (1 + df)) + 1), normalised per
  document; ties between phrases of equal weight go to the phrase that sorts last as a
  string (``heapq.nlargest`` over (weight, phrase) pairs);
- top-k phrases per document (``--top-k``, default 5) and the connected components of the
  document–phrase graph.

Deviations, deliberate:

- ``--preprocess normalised`` is the variant described as "the InfoShield
  preprocessing" in faisceau's brief: lower-case, accents stripped (NFKD), digits deleted
  as InfoShield does, every other non-alphanumeric character (punctuation, emoji) a word
  separator. The released Coarse code does not lower-case, and it cuts accented words
  in two at the accent rather than stripping it (InfoShield-Fine's own tokeniser
  lower-cases and deletes ASCII punctuation).
- The document is title + text. The released code fits its TF-IDF on the description
  column only (the title it reads is never used); ``--no-title`` reproduces that.
- The clustering is computed in one pass with numpy / scipy sparse instead of one ad at a
  time with pandas and networkx: same clusters, not the same speed. The published
  InfoShield throughput is about 140 docs/s (Coarse + Fine, 4 million ads in 8 hours).
- Singletons get their own label (the released code labels them all -1 and drops them),
  so that B-cubed counts them as one-ad clusters.

With the default options, the partition was checked identical to that of the released
code's logic (scikit-learn TfidfVectorizer, heapq.nlargest, networkx components) on the
demo and small synthetic worlds, top-k 5 and 10, with and without titles.

Run (a synthetic world from ``faisceau synth --out DIR --preset demo``):

    .venv/bin/python benchmarks/infoshield_coarse.py --world DIR [--top-k 5] [--n 5]
        [--preprocess infoshield|normalised] [--no-title]

Prints the number of ads, the time taken with and without loading the crawl, the number
of clusters and the B-cubed precision / recall / F1 against the true controllers
(``truth/ads.jsonl``), over the ads present in both the crawl and the truth.

Other benchmarks use it as ``from infoshield_coarse import infoshield_coarse, load_crawl``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from _common import machine, timed
from faisceau.evaluate.metrics import bcubed, contingency

Doc = tuple[str, str, str]
Key = tuple[str, str]

# --- loading -------------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[bytes]:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as zipped:
            yield from zipped
    else:
        with path.open("rb") as plain:
            yield from plain


def _records(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSON-lines file (optionally gzipped); other lines skipped."""
    for line in _lines(path):
        try:
            record = json.loads(line)
        except ValueError:  # bad JSON or bad UTF-8
            continue
        if isinstance(record, dict):
            yield record


def _key(record: dict[str, Any]) -> Key | None:
    source, ad_id = record.get("source"), record.get("ad_id")
    if source is None or ad_id is None or isinstance(source, dict | list) \
            or isinstance(ad_id, dict | list):
        return None
    return str(source), str(ad_id)


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""


def load_crawl(crawl_dir: Path, *, titles: bool = True) -> list[Doc]:
    """(source, ad_id, "title\\ntext") of every ad in the crawl files of ``crawl_dir``.

    Reads every ``*.jsonl`` and ``*.jsonl.gz`` file in name order and keeps, for each
    (source, ad_id), its last title and text seen; a missing or null field is empty.
    Lines that are not a JSON object with source and ad_id are skipped. With
    ``titles=False`` the document is the text alone (as in the released InfoShield code).
    Sorted by (source, ad_id).
    """
    files = sorted(p for p in Path(crawl_dir).iterdir()
                   if p.is_file() and p.name.endswith((".jsonl", ".jsonl.gz")))
    last: dict[Key, str] = {}
    for path in files:
        for record in _records(path):
            key = _key(record)
            if key is None:
                continue
            text = _string(record.get("text"))
            last[key] = f"{_string(record.get('title'))}\n{text}" if titles else text
    return [(source, ad_id, last[source, ad_id]) for source, ad_id in sorted(last)]


def load_truth(path: Path) -> dict[Key, str]:
    """The true cluster (controller) of each ad of ``truth/ads.jsonl``."""
    truth: dict[Key, str] = {}
    for record in _records(path):
        key, controller = _key(record), record.get("controller")
        if key is not None and controller is not None:
            truth[key] = str(controller)
    return truth


# --- tokenisation --------------------------------------------------------------------------

# The filter of InfoShield's infoshieldcoarse.py, in its order.
_DIGITS = re.compile(r"\d+")
_NON_ASCII = re.compile(r"[^\x00-\x7F]+")
_TAG = re.compile(r"<.*?>")
_DEBRIS = ("&nbsp;", "nbsp;", "<b", "<br", "br>")
# Combining marks left by NFKD (diacritics), and everything that separates words.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_SEPARATORS = re.compile(r"[\W_]+")


def tokens_infoshield(text: str) -> list[str]:
    """Tokens as InfoShield-Coarse makes them: digits deleted, non-ASCII runs made a
    space, HTML tags and non-breaking-space / <br> debris deleted, then split on
    whitespace; case and punctuation kept."""
    text = _TAG.sub("", _NON_ASCII.sub(" ", _DIGITS.sub("", text)))
    for debris in _DEBRIS:
        text = text.replace(debris, "")
    return text.split()


def tokens_normalised(text: str) -> list[str]:
    """Lower-case words without accents, digits or any other non-alphanumeric
    character (emoji, punctuation), which all separate words; digits are deleted
    without separating, as InfoShield does."""
    text = _MARKS.sub("", unicodedata.normalize("NFKD", text)).lower()
    return _SEPARATORS.sub(" ", _DIGITS.sub("", text)).split()


TOKENISERS: dict[str, Callable[[str], list[str]]] = {
    "infoshield": tokens_infoshield,
    "normalised": tokens_normalised,
}

# --- clustering ----------------------------------------------------------------------------

IntArray = NDArray[np.int64]


def _ngrams(token_lists: list[list[str]], n: int) -> tuple[IntArray, IntArray]:
    """Every word n-gram of every document: (document index, phrase id) per occurrence.

    Phrase ids follow the order of the phrases as strings (words joined by a space), the
    order of scikit-learn's vocabulary that InfoShield uses to break ties.
    """
    vocabulary: dict[str, int] = {}
    ids = [[vocabulary.setdefault(word, len(vocabulary)) for word in words]
           for words in token_lists]
    words = list(vocabulary)
    # Word ids by string order: for words without spaces (and no control character below
    # the space), comparing n-grams word by word orders them as the joined strings do.
    rank = np.empty(len(words), dtype=np.int64)
    rank[sorted(range(len(words)), key=words.__getitem__)] = np.arange(len(words))
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    total = int(lengths.sum())
    if total < n:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    flat = rank[np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=total)]
    doc_of = np.repeat(np.arange(len(ids), dtype=np.int64), lengths)
    ends = np.cumsum(lengths)
    starts = np.arange(total - n + 1, dtype=np.int64)
    valid = starts[starts + n <= ends[doc_of[: total - n + 1]]]
    if valid.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    grams = np.lib.stride_tricks.sliding_window_view(flat, n)[valid]
    order = np.lexsort(grams.T[::-1])  # lexicographic, first word first
    grams = grams[order]
    new = np.empty(len(grams), dtype=bool)
    new[0] = True
    new[1:] = np.any(grams[1:] != grams[:-1], axis=1)
    phrase = np.empty(len(grams), dtype=np.int64)
    phrase[order] = np.cumsum(new) - 1
    return doc_of[valid], phrase


def top_phrases(token_lists: list[list[str]], top_k: int = 5,
                n: int = 5) -> tuple[IntArray, IntArray]:
    """(document index, phrase id) of the ``top_k`` phrases of highest TF-IDF of each
    document, weights as scikit-learn's TfidfVectorizer(sublinear_tf=True)."""
    docs, phrases = _ngrams(token_lists, n)
    if docs.size == 0:
        return docs, phrases
    n_phrases = int(phrases.max()) + 1
    pairs, tf = np.unique(docs * n_phrases + phrases, return_counts=True)
    doc, phrase = pairs // n_phrases, pairs % n_phrases
    df = np.bincount(phrase, minlength=n_phrases)
    idf = np.log((1 + len(token_lists)) / (1 + df)) + 1
    weight = (1 + np.log(tf)) * idf[phrase]
    weight /= np.sqrt(np.bincount(doc, weights=weight * weight))[doc]
    # Per document, by decreasing weight, ties to the phrase that sorts last.
    order = np.lexsort((-phrase, -weight, doc))
    doc, phrase = doc[order], phrase[order]
    per_doc = np.bincount(doc, minlength=len(token_lists))
    first = np.cumsum(per_doc) - per_doc
    keep = np.arange(len(doc)) - first[doc] < top_k
    return doc[keep], phrase[keep]


def infoshield_coarse(docs: list[Doc], top_k: int = 5, n: int = 5, *,
                      preprocess: str = "infoshield") -> dict[Key, int]:
    """InfoShield-Coarse cluster label of each (source, ad_id) of ``docs``.

    Documents are joined when they share one of their ``top_k`` word ``n``-grams of
    highest TF-IDF; labels are the connected components of the document–phrase graph,
    numbered 0.. in order of first document. ``preprocess`` chooses the tokeniser
    (``TOKENISERS``).
    """
    tokenise = TOKENISERS[preprocess]
    doc, phrase = top_phrases([tokenise(text) for _, _, text in docs], top_k, n)
    n_docs = len(docs)
    if n_docs == 0:
        return {}
    kept, phrase = np.unique(phrase, return_inverse=True)
    size = n_docs + len(kept)
    graph = coo_matrix((np.ones(len(doc), dtype=np.int8), (doc, n_docs + phrase)),
                       shape=(size, size)).tocsr()
    _, component = connected_components(graph, directed=False)
    # Renumber by first document, so that labels do not depend on scipy's numbering.
    _, first, inverse = np.unique(component[:n_docs], return_index=True, return_inverse=True)
    renumber = np.empty(len(first), dtype=np.int64)
    renumber[np.argsort(first)] = np.arange(len(first))
    label = renumber[inverse]
    return {(source, ad_id): int(label[i])
            for i, (source, ad_id, _) in enumerate(docs)}


# --- benchmark -----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--world", type=Path, required=True,
                        help="synthetic world directory (crawl/ and truth/ads.jsonl)")
    parser.add_argument("--top-k", type=int, default=5, help="phrases kept per document")
    parser.add_argument("--n", type=int, default=5, help="words per phrase")
    parser.add_argument("--preprocess", choices=sorted(TOKENISERS), default="infoshield")
    parser.add_argument("--no-title", action="store_true",
                        help="text alone, as the released InfoShield code")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    print(f"InfoShield-Coarse: top {args.top_k} phrases of {args.n} words, "
          f"preprocess {args.preprocess}, {'text' if args.no_title else 'title + text'}")
    with timed() as loading:
        docs = load_crawl(args.world / "crawl", titles=not args.no_title)
    with timed() as clustering:
        labels = infoshield_coarse(docs, args.top_k, args.n, preprocess=args.preprocess)
    n = len(docs)
    total = loading[0] + clustering[0]
    print(f"docs: {n:,} ads")
    print(f"time: {clustering[0]:.2f} s clustering = {n / clustering[0]:,.0f} docs/s; "
          f"{total:.2f} s with loading ({loading[0]:.2f} s) = {n / total:,.0f} docs/s   "
          "(published InfoShield: ~140 docs/s)")
    sizes: dict[int, int] = {}
    for label in labels.values():
        sizes[label] = sizes.get(label, 0) + 1
    grouped = [s for s in sizes.values() if s > 1]
    print(f"clusters: {len(sizes):,} ({len(grouped):,} of 2 ads or more, holding "
          f"{sum(grouped):,} ads; {len(sizes) - len(grouped):,} singletons)")

    truth = load_truth(args.world / "truth" / "ads.jsonl")
    common = [key for key in labels if key in truth]
    print(f"truth: {len(common):,} ads in both crawl and truth, "
          f"{len({truth[k] for k in common}):,} controllers")
    score = bcubed(contingency((labels[k] for k in common), (truth[k] for k in common)))
    if score is None:
        print("B-cubed: no ad to score")
    else:
        print(f"B-cubed: precision {score.precision:.4f}  recall {score.recall:.4f}  "
              f"F1 {score.f1:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
