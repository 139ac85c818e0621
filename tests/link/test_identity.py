"""Stable network identifiers, merges and splits."""

from __future__ import annotations

from faisceau.link.identity import assign, network_id_of


def _name(ad: int, salt: int) -> str:
    return network_id_of("src", str(ad), salt)


def test_a_growing_network_keeps_its_identifier() -> None:
    ids, changes = assign({0: [1, 2, 3, 9]}, {1: "n-a", 2: "n-a", 3: "n-a"}, {"n-a"}, _name)
    assert ids == {0: "n-a"} and changes == []


def test_a_merge_keeps_the_larger_identifier_and_records_the_other() -> None:
    previous = {1: "n-a", 2: "n-a", 3: "n-b"}
    ids, changes = assign({0: [1, 2, 3]}, previous, {"n-a", "n-b"}, _name)
    assert ids == {0: "n-a"}
    assert [(c.kind, c.network_id, c.others) for c in changes] == [("merged", "n-a", ["n-b"])]


def test_a_split_gives_the_smaller_part_a_new_identifier_and_records_it() -> None:
    previous = {1: "n-a", 2: "n-a", 3: "n-a"}
    ids, changes = assign({0: [1, 2], 1: [3]}, previous, {"n-a"}, _name)
    assert ids[0] == "n-a" and ids[1] == network_id_of("src", "3")
    assert [(c.kind, c.network_id, c.others) for c in changes] == [("split", "n-a", [ids[1]])]


def test_new_identifiers_come_from_the_ads_and_never_reuse_one() -> None:
    taken = {network_id_of("src", "5")}
    ids, _ = assign({0: [5, 6]}, {}, taken, _name)
    assert ids[0] == network_id_of("src", "6")
    ids, _ = assign({0: [7]}, {}, set(), _name)
    assert ids[0] == network_id_of("src", "7")  # a lone ad: the identifier of the ad alone
