"""The indicators: each a named function of the data, for every network at once.

Every indicator returns a ``Finding``: which networks it fires for, a count that says how
strongly (persons under one contact, départements in four weeks...), and the ads that show
it, its evidence. Ad-level indicators read each ad's cues (``cues``) and fire for a network
when a share of its ads show them; network-level indicators read the structure linking
found (contacts, persons, photos, texts, places, dates).

Everything is vectorised over arrays indexed by ad position (``ScoringInput``), so that a
national month is scored in a fraction of a second: no loop visits the ads one by one.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from faisceau.link import text as text_sim
from faisceau.link.evidence import dense as dense_ids
from faisceau.score.cues import Cue
from faisceau.score.settings import Indicator

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
NATIONAL = ""  # the key of the national medians
LEGAL_AGE = 18


@dataclass
class ScoringInput:
    """What scoring reads, per ad position (one network label per ad)."""

    network: Ints  # per ad, its network as 0..networks-1
    networks: int
    first_day: Ints  # per ad, days since the epoch
    cues: Ints  # per ad, the cues of all its versions (bit mask)
    name: Ints  # per ad, dense id of its pseudonym (latest version), -1 when none
    stated_age: Ints  # per ad, -1 when none
    departement: Ints  # per ad, dense id of its département, -1 when none
    price_hour: Ints  # per ad, EUR for an hour, -1 when none
    price_half: Ints  # per ad, EUR for half an hour, -1 when none
    # Per ad, the median price of its market for the same length (``price_medians``).
    median_hour: Floats
    median_half: Floats
    # Identifiers: (ad position, dense key id) and whether each key id is a phone.
    key_ads: Ints
    key_ids: Ints
    key_is_phone: Bools
    # Photos: (ad position, dense image id), and whether another network showed that
    # photo first (``first_shown_elsewhere``).
    image_ads: Ints
    image_ids: Ints
    image_stolen: Bools
    # Texts: per version, its ad position and MinHash signature (link features).
    version_ads: Ints
    signatures: text_sim.SignatureArray
    has_text: Bools
    bands: int
    # Estimated Jaccard similarity at which two texts are near-duplicates (linking's
    # ``min_similarity``: one threshold for both).
    near_duplicate: float
    # Capitalised words of each ad's text that are pseudonyms of the data: (ad position,
    # name id as in ``name``).
    mention_ads: Ints = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    mention_names: Ints = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @property
    def ads(self) -> int:
        return len(self.network)

    @functools.cached_property
    def person(self) -> Ints:
        """Per ad, the person it presents (``persons``), -1 when it gives no name."""
        return persons(self)

    @functools.cached_property
    def multi_person(self) -> Bools:
        """Per ad, whether its network shows two persons or more: only those can share
        anything among persons, and they are a small part of all ads (computed once for
        the indicators that need it)."""
        named = self.person >= 0
        count = _distinct_per(self.network[named], self.person[named], self.networks)
        return count[self.network] >= 2


def persons(data: ScoringInput) -> Ints:
    """Per ad, its person: the pseudonyms of a network that are one person under two names
    count once. Two pseudonyms of one network are one person, when their stated ages agree
    (one age in common, or no age given), if

    - the ads under one say the other in their text ("Bonjour, je suis Lola" under the
      name "Nina"), or
    - they show the same photo (perceptual) and no other pseudonym of the network shows
      it: a network's stock photos, shown for several persons, never join them, or
    - they describe themselves in the same words: first-person texts that are
      near-duplicates once names, ages, places and contacts are masked, shown under these
      two pseudonyms only, with one stated age in common. A writer describing someone else
      (third person) or one template filled for three pseudonyms or more says nothing of
      who is who.

    Person numbers are dense over (network, pseudonym) groups; -1 for ads without a name."""
    out = np.full(data.ads, -1, dtype=np.int64)
    named = np.flatnonzero(data.name >= 0)
    if len(named) == 0:
        return out
    packed = (data.network[named] << 32) | data.name[named]
    persona_keys = np.unique(packed)
    persona = np.full(data.ads, -1, dtype=np.int64)
    persona[named] = np.searchsorted(persona_keys, packed)
    count = len(persona_keys)
    left: list[int] = []
    right: list[int] = []
    # The ads of one pseudonym that say another pseudonym of the same network.
    says = persona[data.mention_ads] >= 0
    m_ads, m_names = data.mention_ads[says], data.mention_names[says]
    target = (data.network[m_ads] << 32) | m_names
    where = np.minimum(np.searchsorted(persona_keys, target), count - 1)
    found = persona_keys[where] == target
    pairs = np.unique(np.stack([persona[m_ads[found]], where[found]], axis=1), axis=0) \
        if found.any() else np.empty((0, 2), dtype=np.int64)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    left += pairs[:, 0].tolist()
    right += pairs[:, 1].tolist()
    # Photos shown under exactly two pseudonyms of one network.
    shown = persona[data.image_ads] >= 0
    rows = np.unique(np.stack([data.network[data.image_ads[shown]], data.image_ids[shown],
                               persona[data.image_ads[shown]]], axis=1), axis=0)
    if len(rows):
        photo = _pair(rows[:, 0], rows[:, 1])
        per_photo = np.bincount(photo)
        two = np.flatnonzero(per_photo[photo] == 2)  # rows in pairs, sorted by photo
        left += rows[two[0::2], 2].tolist()
        right += rows[two[1::2], 2].tolist()
    lenient = len(left)  # the pairs above agree on age when one of them states none
    same_words = _self_descriptions(data, persona)
    left += same_words[:, 0].tolist()
    right += same_words[:, 1].tolist()
    if not left:
        out[named] = persona[named]
        return out
    ages: dict[int, set[int]] = defaultdict(set)
    wanted = set(left) | set(right)
    aged = named[data.stated_age[named] >= 0]
    for p, age in zip(persona[aged].tolist(), data.stated_age[aged].tolist(), strict=True):
        if p in wanted:
            ages[p].add(age)
    agree = [i for i, (a, b) in enumerate(zip(left, right, strict=True))
             if ages[a] & ages[b] or (i < lenient and (not ages[a] or not ages[b]))]
    # Imported here: scipy is heavy, and commands that only read scores import this module.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(agree), dtype=np.int8),
                        (np.asarray(left)[agree], np.asarray(right)[agree])),
                       shape=(count, count))
    component = connected_components(graph, directed=False)[1].astype(np.int64)
    out[named] = component[persona[named]]
    return out


def _self_descriptions(data: ScoringInput, persona: Ints) -> Ints:
    """(persona, persona) pairs of one network whose first-person texts are near-duplicates
    once slots are masked (they meet in an LSH band and their estimated similarity is at
    least ``near_duplicate``), the band shown by these two pseudonyms of the network only,
    and neither pseudonym's texts shared with two others (a template for three names)."""
    empty = np.empty((0, 2), dtype=np.int64)
    first_person = (data.cues[data.version_ads] & int(Cue.THIRD_PERSON)) == 0
    rows = np.flatnonzero(data.has_text & first_person & (persona[data.version_ads] >= 0))
    if len(rows) == 0:
        return empty
    version = np.repeat(rows, data.bands)
    bucket = dense(text_sim.band_keys(data.signatures[rows], data.bands).ravel()
                   .view(np.int64))[0]
    who = persona[data.version_ads[version]]
    cell = _pair(data.network[data.version_ads[version]], bucket)
    # One row per (network and band, persona), with one of its versions.
    order = np.lexsort((version, who, cell))
    cell, who, version = cell[order], who[order], version[order]
    first = np.r_[True, (cell[1:] != cell[:-1]) | (who[1:] != who[:-1])]
    cell, who, version = cell[first], who[first], version[first]
    shown_by = np.bincount(cell)[cell]
    crowded = np.unique(who[shown_by >= 3])
    two = np.flatnonzero(shown_by == 2)  # rows in pairs, sorted by band
    left, right = two[0::2], two[1::2]
    keep = ~np.isin(who[left], crowded) & ~np.isin(who[right], crowded)
    left, right = left[keep], right[keep]
    alike = text_sim.similarity(data.signatures, version[left], version[right]) \
        >= data.near_duplicate
    if not alike.any():
        return empty
    return np.unique(np.stack([who[left[alike]], who[right[alike]]], axis=1), axis=0)


@dataclass
class Finding:
    fired: Bools  # per network
    count: Ints  # per network: how strongly (persons, phones, départements, ads...)
    evidence: Bools  # per ad: shows the indicator (meaningful where its network fired)


def dense(values: Ints) -> tuple[Ints, int]:
    """Values renumbered 0..k-1 in sorted order, and k (``link.evidence.dense``)."""
    distinct_values, ids = dense_ids(values)
    return ids, len(distinct_values)


def _pair(high: Ints, low: Ints) -> Ints:
    """Dense ids of (high, low) pairs of small non-negative integers."""
    return dense((high.astype(np.int64) << 32) | low.astype(np.int64))[0]


def _distinct_per(group: Ints, value: Ints, groups: int) -> Ints:
    """How many distinct ``value`` each ``group`` (0..groups-1) has."""
    if len(group) == 0:
        return np.zeros(groups, dtype=np.int64)
    packed = (group.astype(np.int64) << 32) | value.astype(np.int64)
    ordered = np.sort(packed)
    unique = ordered[np.r_[True, ordered[1:] != ordered[:-1]]]
    return np.bincount(unique >> 32, minlength=groups).astype(np.int64)


def _max_per(group: Ints, value: Ints, groups: int) -> Ints:
    out = np.zeros(groups, dtype=np.int64)
    if len(group):
        np.maximum.at(out, group, value)
    return out


def _shared_among_persons(data: ScoringInput, rows_ad: Ints, rows_thing: Ints,
                          min_persons: int) -> Finding:
    """Things (contacts, photos, text bands) shown for several persons in a network.

    ``rows_ad`` and ``rows_thing`` are parallel: an ad shows a thing. A (network, thing)
    shown for at least ``min_persons`` persons fires for the network; its ads are the
    evidence and the count is the most persons under one thing."""
    named = data.person[rows_ad] >= 0
    rows_ad, rows_thing = rows_ad[named], rows_thing[named]
    combo = _pair(data.network[rows_ad], rows_thing)
    combos = int(combo.max()) + 1 if len(combo) else 0
    shown_by = _distinct_per(combo, data.person[rows_ad], combos)
    flagged_rows = shown_by[combo] >= min_persons
    evidence = np.zeros(data.ads, dtype=np.bool_)
    evidence[rows_ad[flagged_rows]] = True
    count = _max_per(data.network[rows_ad], shown_by[combo], data.networks)
    return Finding(count >= min_persons, count, evidence)


def first_shown_elsewhere(photo: Ints, network: Ints, day: Ints) -> Bools:
    """Per image row (parallel arrays: its photo, its ad's network, its ad's first day),
    whether another network showed the same photo strictly earlier. The network that
    showed a photo first is never marked: a stolen photo marks the thief, not the owner.
    Rows of ads without a network (-1) are ignored and never marked."""
    out = np.zeros(len(photo), dtype=np.bool_)
    rows = np.flatnonzero(network >= 0)
    if len(rows) == 0:
        return out
    photos = int(photo.max()) + 1
    first_of_photo = np.full(photos, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_of_photo, photo[rows], day[rows])
    pair = _pair(photo[rows], network[rows])
    first_of_pair = np.full(int(pair.max()) + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_of_pair, pair, day[rows])
    out[rows] = first_of_pair[pair] > first_of_photo[photo[rows]]
    return out


def stolen_photo_ads(data: ScoringInput) -> Bools:
    """Ads showing a photo that another network showed first."""
    shown = np.zeros(data.ads, dtype=np.bool_)
    shown[data.image_ads[data.image_stolen]] = True
    return shown


def messaging_only_ads(data: ScoringInput) -> Bools:
    """Ads reachable through a messaging handle or an e-mail only: some contact, no phone."""
    contact = np.zeros(data.ads, dtype=np.bool_)
    phone = np.zeros(data.ads, dtype=np.bool_)
    contact[data.key_ads] = True
    phone[data.key_ads[data.key_is_phone[data.key_ids]]] = True
    return contact & ~phone


def several_persons_per_contact(data: ScoringInput, indicator: Indicator) -> Finding:
    keep = data.multi_person[data.key_ads]
    return _shared_among_persons(data, data.key_ads[keep], data.key_ids[keep],
                                 int(indicator.param("min_persons")))


def person_several_phones(data: ScoringInput, indicator: Indicator) -> Finding:
    phone = data.key_is_phone[data.key_ids] & (data.person[data.key_ads] >= 0)
    ads, keys = data.key_ads[phone], data.key_ids[phone]
    person = data.person[ads]
    persons = int(person.max()) + 1 if len(person) else 0
    phones = _distinct_per(person, keys, persons)
    minimum = int(indicator.param("min_phones"))
    evidence = np.zeros(data.ads, dtype=np.bool_)
    evidence[ads[phones[person] >= minimum]] = True
    count = _max_per(data.network[ads], phones[person], data.networks)
    return Finding(count >= minimum, count, evidence)


def templated_texts(data: ScoringInput, indicator: Indicator) -> Finding:
    keep = data.has_text & data.multi_person[data.version_ads]
    rows = np.flatnonzero(keep)
    keys = text_sim.band_keys(data.signatures[rows], data.bands)
    ads = np.repeat(data.version_ads[rows], data.bands)
    bands = dense(keys.reshape(-1).view(np.int64))[0]
    return _shared_among_persons(data, ads, bands, 2)


def shared_photos(data: ScoringInput, indicator: Indicator) -> Finding:
    keep = data.multi_person[data.image_ads]
    return _shared_among_persons(data, data.image_ads[keep], data.image_ids[keep], 2)


def circuit(data: ScoringInput, indicator: Indicator) -> Finding:
    placed = (data.departement >= 0) & (data.person >= 0)
    ads = np.flatnonzero(placed)
    window = int(indicator.param("window_days"))
    # Four-week periods, twice, shifted by half a period: a circuit across a boundary is
    # still seen whole in one of them.
    best = np.zeros(data.networks, dtype=np.int64)
    evidence = np.zeros(data.ads, dtype=np.bool_)
    minimum = int(indicator.param("min_departements"))
    for shift in (0, window // 2):
        period = (data.first_day[ads] + shift) // window
        person = _pair(data.person[ads], period)
        groups = int(person.max()) + 1 if len(person) else 0
        places = _distinct_per(person, data.departement[ads], groups)
        best = np.maximum(best, _max_per(data.network[ads], places[person], data.networks))
        evidence[ads[places[person] >= minimum]] = True
    return Finding(best >= minimum, best, evidence)


def burst(data: ScoringInput, indicator: Indicator) -> Finding:
    day = _pair(data.network, data.first_day - int(data.first_day.min(initial=0)))
    per_day = np.bincount(day, minlength=int(day.max(initial=-1)) + 1)
    minimum = int(indicator.param("min_ads_per_day"))
    count = _max_per(data.network, per_day[day], data.networks)
    return Finding(count >= minimum, count, per_day[day] >= minimum)


def _weighted_median(prices: list[tuple[int, int]]) -> float:
    """The median of prices given as (price, how many), as ``np.median`` would give it."""
    prices = sorted(prices)
    total = sum(n for _, n in prices)
    wanted = [(total - 1) // 2, total // 2]  # the middle one, or the middle two
    found: list[float] = []
    seen = 0
    for price, n in prices:
        while wanted and wanted[0] < seen + n:
            found.append(price)
            wanted.pop(0)
        seen += n
    return (found[0] + found[1]) / 2


def price_medians(histogram: Iterable[tuple[str, int, int, int]],
                  min_local: int) -> dict[str, tuple[float, float]]:
    """The median price for an hour and for half an hour (NaN: no price) in each
    département with at least ``min_local`` prices of that length, and nationally (key
    ``NATIONAL``), from the market's histogram: (département or "", minutes, price, count)."""
    groups: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for departement, minutes, price, count in histogram:
        if minutes in (60, 30) and count > 0:
            groups.setdefault((departement or NATIONAL, minutes), []).append((price, count))
            if departement:
                groups.setdefault((NATIONAL, minutes), []).append((price, count))
    out: dict[str, list[float]] = {NATIONAL: [float("nan"), float("nan")]}
    for (departement, minutes), prices in groups.items():
        if departement == NATIONAL or sum(n for _, n in prices) >= min_local:
            column = 0 if minutes == 60 else 1
            out.setdefault(departement, [float("nan"), float("nan")])[column] = \
                _weighted_median(prices)
    return {code: (values[0], values[1]) for code, values in out.items()}


def medians_of(medians: dict[str, tuple[float, float]],
               departements: Sequence[str | None]) -> tuple[Floats, Floats]:
    """Per ad, the median of its market: its département's, else the national one."""
    national = medians.get(NATIONAL, (float("nan"), float("nan")))
    keys = [code or NATIONAL for code in departements]
    out = []
    for column in (0, 1):
        lookup = {code: values[column] if values[column] == values[column] else national[column]
                  for code, values in medians.items()}
        out.append(np.fromiter((lookup.get(k, national[column]) for k in keys),
                               dtype=np.float64, count=len(keys)))
    return out[0], out[1]


def low_price_ads(data: ScoringInput, indicator: Indicator) -> Bools:
    """Ads asking far less than the median of their market for the same length of service
    (NaN medians compare false: no market, no flag)."""
    factor = float(indicator.param("below_median"))
    low = (data.price_hour > 0) & (data.price_hour < factor * data.median_hour)
    return low | ((data.price_half > 0) & (data.price_half < factor * data.median_half))


# Ad-level indicators: the cue each one reads.
AD_CUES: dict[str, Cue] = {
    "third_person": Cue.THIRD_PERSON,
    "youth": Cue.YOUTH,
    "trust": Cue.TRUST,
    "obscured_contact": Cue.OBSCURED_CONTACT,
    "origin_emphasis": Cue.ORIGIN_EMPHASIS,
    "hotel_rental": Cue.HOTEL_RENTAL,
    "round_the_clock": Cue.ROUND_THE_CLOCK,
    "foreign_phone": Cue.FOREIGN_PHONE,
    "movement": Cue.MOVEMENT,
    "scam_payment": Cue.SCAM_PAYMENT,
}

# Ad-level indicators read from the structure rather than the text.
AD_FUNCTIONS: dict[str, Callable[[ScoringInput], Bools]] = {
    "stolen_photos": stolen_photo_ads,
    "messaging_only": messaging_only_ads,
}

NETWORK_INDICATORS: dict[str, Callable[[ScoringInput, Indicator], Finding]] = {
    "several_persons_per_contact": several_persons_per_contact,
    "person_several_phones": person_several_phones,
    "templated_texts": templated_texts,
    "shared_photos": shared_photos,
    "circuit": circuit,
    "burst": burst,
}


def ad_level(data: ScoringInput, indicator: Indicator, shown: Bools) -> Finding:
    """An ad-level indicator for every network: fires when at least ``min_share`` of a
    network's ads show it; the count is how many do."""
    ads = np.bincount(data.network, minlength=data.networks)
    count = np.bincount(data.network, weights=shown, minlength=data.networks).astype(np.int64)
    share = count / np.maximum(ads, 1)
    return Finding((count > 0) & (share >= float(indicator.param("min_share"))), count, shown)


def evaluate(data: ScoringInput, indicator: Indicator) -> Finding:
    """The finding of one indicator of the catalogue."""
    if indicator.name in NETWORK_INDICATORS:
        return NETWORK_INDICATORS[indicator.name](data, indicator)
    if indicator.name in AD_FUNCTIONS:
        return ad_level(data, indicator, AD_FUNCTIONS[indicator.name](data))
    if indicator.name == "low_price":
        return ad_level(data, indicator, low_price_ads(data, indicator))
    if indicator.name == "age_at_limit":
        limit = int(indicator.param("max_age"))
        shown = (data.stated_age >= LEGAL_AGE) & (data.stated_age <= limit)
        return ad_level(data, indicator, shown)
    if indicator.name in AD_CUES:
        shown = (data.cues & int(AD_CUES[indicator.name])) != 0
        return ad_level(data, indicator, shown)
    raise KeyError(f"no function for indicator {indicator.name!r}")
