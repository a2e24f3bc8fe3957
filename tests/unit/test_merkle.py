"""The transparency record's hashing (domain/merkle.py): RFC 6962's Merkle tree hash and audit paths, checked
against the known answers of RFC 6962's reference implementation (certificate-transparency's merkle tests)."""
from __future__ import annotations

import hashlib

import pytest

from chalicelib.domain import merkle

# The eight leaves of the reference tests and the root of each prefix of them.
LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
          b"\x50\x51\x52\x53\x54\x55\x56\x57", bytes(range(0x60, 0x70))]
ROOTS = ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]


def test_the_empty_tree_hashes_to_the_sha256_of_nothing():
    assert merkle.mth([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("n", range(1, 9))
def test_tree_hashes_match_rfc_6962_known_answers(n):
    assert merkle.mth([merkle.leaf_hash(leaf) for leaf in LEAVES[:n]]).hex() == ROOTS[n - 1]


@pytest.mark.parametrize("n", range(1, 24))
def test_every_audit_path_folds_to_the_root_and_a_changed_leaf_does_not(n):
    hashes = [merkle.leaf_hash(b"leaf %d" % i) for i in range(n)]
    root = merkle.mth(hashes)
    for index in range(n):
        steps = merkle.path(hashes, index)
        assert merkle.fold(hashes[index], steps) == root
        assert merkle.fold(merkle.leaf_hash(b"changed"), steps) != root


def test_a_path_of_the_reference_tree_names_its_siblings_on_their_sides():
    hashes = [merkle.leaf_hash(leaf) for leaf in LEAVES[:3]]
    steps = merkle.path(hashes, 2)  # the third leaf's sibling is the subtree of the first two, on its left
    assert steps == [{"side": "L", "hash": ROOTS[1]}]
    assert [s["side"] for s in merkle.path(hashes, 0)] == ["R", "R"]


def test_leaf_and_node_hashes_are_domain_separated():
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


def test_canonical_json_sorts_keys_without_spaces_and_keeps_chinese_as_utf8():
    assert merkle.canonical({"b": 1, "a": "绿芽"}) == '{"a":"绿芽","b":1}'.encode()


def test_the_chain_commits_to_the_previous_day_and_the_counts():
    first = merkle.chain_hash("default", "2026-01-01", "ab" * 32, 2, 10, merkle.ZERO)
    expected = hashlib.sha256(b"\x02" + merkle.canonical({
        "v": 1, "platform": "default", "day": "2026-01-01", "root": "ab" * 32, "entries": 2, "carbon_mg": 10,
        "prev": merkle.ZERO})).hexdigest()
    assert first == expected
    assert merkle.chain_hash("default", "2026-01-02", "ab" * 32, 2, 10, first) != \
        merkle.chain_hash("default", "2026-01-02", "ab" * 32, 2, 10, merkle.ZERO)
    assert merkle.chain_hash("default", "2026-01-01", "ab" * 32, 2, 11, merkle.ZERO) != first
