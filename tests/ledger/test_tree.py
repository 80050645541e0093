"""Merkle tree maths: RFC 6962 / RFC 9162 known answers, reference cross-checks and properties."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from redline.ledger.tree import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# Known-answer vectors: the RFC 6962 reference tree of Certificate Transparency. Values (only the
# values) are taken from transparency-dev/merkle, files proof/verify_test.go (leaves, roots,
# inclusionProofs, consistencyProofs) and testonly/constants.go (NodeHashes, CompactTrees), which
# carry them over from google/certificate-transparency cpp/merkletree/merkle_tree_test.cc
# (kInputs, kSHA256Roots, kSHA256Paths, kSHA256Proofs). Both files number inclusion-proof leaves
# from 1; the tuples below use 0-based indices, as the ledger's sequence numbers do.

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

# ROOTS[n] is the root of the first n leaves.
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]

# NODES[level][i] is the root of the complete subtree of leaves [i * 2**level, (i + 1) * 2**level).
NODES = [
    [bytes.fromhex(h) for h in level]
    for level in (
        (
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        ),
        (
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ),
        (
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
        ("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",),
    )
]

# (index, size, audit path), from inclusionProofs / kSHA256Paths.
INCLUSION_VECTORS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (old_size, new_size, proof), from consistencyProofs / kSHA256Proofs.
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

LEAVES = [leaf_hash(x) for x in LEAF_INPUTS]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def hexes(hashes: Sequence[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def flip(h: bytes, bit: int = 3) -> bytes:
    """``h`` with one bit flipped: bit ``bit % 8`` of byte ``bit // 8``."""
    i = bit // 8
    return h[:i] + bytes([h[i] ^ (1 << (bit % 8))]) + h[i + 1 :]


# Reference implementations, written straight from the recursive definitions in RFC 9162 §2.1, to
# cross-check the iterative code. Only for small trees.


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    if not d:
        return EMPTY_ROOT
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_shape(m: int, n: int) -> list[bool]:
    """For each audit-path node, leaf end first: is it a left sibling?"""
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_shape(m, k), False]
    return [*ref_shape(m - k, n - k), True]


# A pool of distinct synthetic leaf hashes; a tree of size n is its first n.
POOL = [leaf_hash(b"redline test entry %d" % i) for i in range(2048)]


def range_getter(
    hashes: Sequence[bytes], calls: list[tuple[int, int]]
) -> Callable[[int, int], bytes]:
    """A get_range_hash over ``hashes`` that enforces the complete-subtree contract."""

    def get(start: int, end: int) -> bytes:
        width = end - start
        assert width > 0
        assert width & (width - 1) == 0, (start, end)
        assert start % width == 0, (start, end)
        calls.append((start, end))
        return ref_mth(hashes[start:end]) if width <= 64 else root(hashes[start:end])

    return get


# Hashing and roots.


def test_hash_primitives() -> None:
    assert EMPTY_ROOT == hashlib.sha256(b"").digest() == ROOTS[0]
    assert HASH_SIZE == 32
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )


def test_leaf_hashes_match_vectors() -> None:
    assert hexes(LEAVES) == hexes(NODES[0])


@pytest.mark.parametrize("size", range(9))
def test_roots_match_vectors(size: int) -> None:
    assert root(LEAVES[:size]).hex() == ROOTS[size].hex()
    assert ref_mth(LEAVES[:size]) == ROOTS[size]


def test_complete_subtree_roots_match_vectors() -> None:
    for level, nodes in enumerate(NODES):
        width = 1 << level
        for i, expected in enumerate(nodes):
            assert root(LEAVES[i * width : (i + 1) * width]) == expected


def test_root_accepts_any_iterable_and_rejects_bad_hashes() -> None:
    assert root(iter(LEAVES)) == ROOTS[8]
    assert root(h for h in LEAVES[:5]) == ROOTS[5]
    assert root([bytearray(h) for h in LEAVES[:3]]) == ROOTS[3]  # type: ignore[misc]
    with pytest.raises(ValueError, match="32 bytes"):
        root([LEAVES[0], b"short"])
    with pytest.raises(ValueError, match="32 bytes"):
        root([LEAVES[0], "a" * 32])  # type: ignore[list-item]


@pytest.mark.parametrize("n", range(0, 70))
def test_root_matches_reference(n: int) -> None:
    assert root(POOL[:n]) == ref_mth(POOL[:n])


# Compact range.

# CompactTrees() of testonly/constants.go: the peaks of each tree size, as (level, index) of NODES.
COMPACT_VECTORS = [
    [],
    [(0, 0)],
    [(1, 0)],
    [(1, 0), (0, 2)],
    [(2, 0)],
    [(2, 0), (0, 4)],
    [(2, 0), (1, 2)],
    [(2, 0), (1, 2), (0, 6)],
    [(3, 0)],
]


def test_compact_range_matches_vectors() -> None:
    compact = CompactRange()
    assert compact.size == 0
    assert compact.root() == ROOTS[0]
    assert compact.hashes == ()
    for size in range(1, 9):
        compact.append(LEAVES[size - 1])
        assert compact.size == size
        assert compact.root() == ROOTS[size]
        assert compact.hashes == tuple(NODES[lv][i] for lv, i in COMPACT_VECTORS[size])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=300))
def test_compact_range_root_equals_root_for_every_prefix(entries: list[bytes]) -> None:
    hashes = [leaf_hash(e) for e in entries]
    compact = CompactRange()
    assert compact.root() == root([])
    for i, h in enumerate(hashes):
        compact.append(h)
        assert compact.size == i + 1
        assert len(compact.hashes) == (i + 1).bit_count()
        assert compact.root() == root(hashes[: i + 1])
    if len(hashes) <= 64:
        assert compact.root() == ref_mth(hashes)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 600), st.integers(0, 600))
def test_compact_range_resumes_from_its_state(first: int, more: int) -> None:
    writer = CompactRange()
    writer.extend(POOL[:first])
    restored = CompactRange.from_hashes(writer.size, writer.hashes)
    fork = writer.copy()
    restored.extend(POOL[first : first + more])
    assert restored.root() == root(POOL[: first + more])
    assert writer.size == fork.size == first
    assert writer.root() == fork.root() == root(POOL[:first])


def test_compact_range_rejects_bad_input() -> None:
    compact = CompactRange()
    with pytest.raises(ValueError, match="32 bytes"):
        compact.append(b"x" * 31)
    with pytest.raises(ValueError, match="32 bytes"):
        compact.extend([LEAVES[0], LEAVES[1], b"x" * 33])
    # The leaves before the bad one stay appended, and the state stays consistent.
    assert compact.size == 2
    assert compact.root() == ROOTS[2]
    with pytest.raises(ValueError, match="peaks"):
        CompactRange.from_hashes(3, [NODES[1][0]])
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange.from_hashes(1, [b"short"])
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange.from_hashes(1, [32])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="non-negative"):
        CompactRange.from_hashes(-1, [])
    assert "size=2" in repr(compact)


# Inclusion proofs.


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_VECTORS)
def test_inclusion_proof_vectors(index: int, size: int, expected: list[str]) -> None:
    proof = inclusion_proof(index, size, LEAVES)
    assert hexes(proof) == expected
    assert verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_VECTORS)
def test_inclusion_vector_corruptions_fail(index: int, size: int, expected: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in expected]
    r, leaf = ROOTS[size], LEAVES[index]
    assert verify_inclusion(leaf, index, size, proof, r)
    probes: list[tuple[Any, ...]] = [
        (leaf, index - 1, size, proof, r),
        (leaf, index + 1, size, proof, r),
        (leaf, index ^ 2, size, proof, r),
        (leaf, index, size * 2, proof, r),
        (leaf, index, size // 2, proof, r),
        (b"WrongLeaf", index, size, proof, r),
        (SOME_HASH, index, size, proof, r),
        (leaf, index, size, proof, EMPTY_ROOT),
        (leaf, index, size, proof, SOME_HASH),
        (leaf, index, size, [*proof, b""], r),
        (leaf, index, size, [*proof, r], r),
        (leaf, index, size, [b"", *proof], r),
        (leaf, index, size, [r, *proof], r),
    ]
    for i in range(len(proof)):
        probes.append((leaf, index, size, [*proof[:i], flip(proof[i]), *proof[i + 1 :]], r))
    if proof:
        probes.append((leaf, index, size, proof[:-1], r))
    if len(proof) > 1:
        probes.append((leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], r))
    for probe in probes:
        assert verify_inclusion(*probe) is False, probe


# The shape of some proofs from proof/proof_test.go (TestInclusion), as node positions in NODES,
# for the cases whose nodes are all complete subtrees of the 8-leaf tree. Level-2 node l of the
# 7-leaf tree is not complete there: it is node_hash(NODES[1][2], NODES[0][6]).
_L7 = node_hash(NODES[1][2], NODES[0][6])
INCLUSION_SHAPES: list[tuple[int, int, list[bytes]]] = [
    (0, 2, [NODES[0][1]]),
    (1, 2, [NODES[0][0]]),
    (1, 3, [NODES[0][0], NODES[0][2]]),
    (0, 7, [NODES[0][1], NODES[1][1], _L7]),
    (2, 7, [NODES[0][3], NODES[1][0], _L7]),
    (4, 7, [NODES[0][5], NODES[0][6], NODES[2][0]]),
    (6, 7, [NODES[1][2], NODES[2][0]]),
    (2, 4, [NODES[0][3], NODES[1][0]]),
    (3, 5, [NODES[0][2], NODES[1][0], NODES[0][4]]),
    (3, 6, [NODES[0][2], NODES[1][0], NODES[1][2]]),
    (4, 6, [NODES[0][5], NODES[2][0]]),
]


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_SHAPES)
def test_inclusion_proof_shapes(index: int, size: int, expected: list[bytes]) -> None:
    assert inclusion_proof(index, size, LEAVES) == expected
    assert verify_inclusion(LEAVES[index], index, size, expected, ROOTS[size])


@pytest.mark.parametrize("size", range(1, 50))
def test_inclusion_proofs_match_reference(size: int) -> None:
    hashes = POOL[:size]
    r = root(hashes)
    for index in range(size):
        proof = inclusion_proof(index, size, hashes)
        assert proof == ref_path(index, hashes)
        assert verify_inclusion(hashes[index], index, size, proof, r)


def test_inclusion_proof_argument_errors() -> None:
    for index, size in [(0, 0), (1, 0), (2, 1), (8, 8), (-1, 4), (0, -1)]:
        with pytest.raises(ValueError, match=r"must be|not in a tree"):
            inclusion_proof(index, size, LEAVES)
    with pytest.raises(ValueError, match="leaf hashes given"):
        inclusion_proof(0, 9, LEAVES)
    with pytest.raises(ValueError, match="32 bytes"):
        inclusion_proof(0, 2, [LEAVES[0], b"short"])
    with pytest.raises(ValueError, match="sequence of leaf hashes"):
        inclusion_proof(0, 1, b"x" * 32)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="32 bytes"):
        inclusion_proof(0, 2, lambda start, end: b"short")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_inclusion_property(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 2000), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    hashes = POOL[:size]
    r = root(hashes)
    leaf = hashes[index]
    proof = inclusion_proof(index, size, hashes)
    assert verify_inclusion(leaf, index, size, proof, r)
    assert len(proof) == len(ref_shape(index, size)) <= (size - 1).bit_length()

    # The callable source gives the same proof, asking only for O(log size) complete subtrees.
    calls: list[tuple[int, int]] = []
    assert inclusion_proof(index, size, range_getter(hashes, calls)) == proof
    assert len(calls) <= 2 * size.bit_length()

    # Any changed proof node fails.
    for i in range(len(proof)):
        bit = data.draw(st.integers(0, 255), label="bit")
        tampered = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
        assert not verify_inclusion(leaf, index, size, tampered, r)
    # A missing, extra or reordered node fails.
    if proof:
        assert not verify_inclusion(leaf, index, size, proof[:-1], r)
        assert not verify_inclusion(leaf, index, size, proof[1:], r)
    assert not verify_inclusion(leaf, index, size, [*proof, r], r)
    if len(proof) > 1 and proof[0] != proof[1]:
        assert not verify_inclusion(leaf, index, size, [proof[1], proof[0], *proof[2:]], r)
    # A different leaf, root or index fails.
    other = data.draw(st.integers(0, len(POOL) - 1), label="other leaf")
    if other != index:
        assert not verify_inclusion(POOL[other], index, size, proof, r)
    assert not verify_inclusion(flip(leaf), index, size, proof, r)
    assert not verify_inclusion(leaf, index, size, proof, flip(r, 0))
    other_index = data.draw(st.integers(0, size + 5), label="other index")
    if other_index != index:
        assert not verify_inclusion(leaf, other_index, size, proof, r)
    # Doubling or halving the size always fails (the leaf's depth changes) ...
    assert not verify_inclusion(leaf, index, size * 2, proof, r)
    assert not verify_inclusion(leaf, index, size // 2, proof, r)
    # ... but in general a proof fits every size in which the leaf's path has the same shape: the
    # size is authenticated by the signed checkpoint, not by the proof.
    other_size = data.draw(st.integers(1, 4100), label="other size")
    if other_size != size:
        same_shape = other_size > index and ref_shape(index, other_size) == ref_shape(index, size)
        assert verify_inclusion(leaf, index, other_size, proof, r) == same_shape


def test_proof_binds_size_only_through_the_shape() -> None:
    # Leaf 0 has the same path shape (left, left) in trees of 3 and 4 leaves: the size-3 proof
    # verifies against the size-3 root under either size. A verifier MUST take size and root from
    # one signed checkpoint.
    proof = inclusion_proof(0, 3, LEAVES)
    assert verify_inclusion(LEAVES[0], 0, 3, proof, ROOTS[3])
    assert verify_inclusion(LEAVES[0], 0, 4, proof, ROOTS[3])
    # The same holds of consistency proofs: (1, 3) and (1, 4) have the same shape.
    proof = consistency_proof(1, 3, LEAVES)
    assert verify_consistency(1, 3, ROOTS[1], ROOTS[3], proof)
    assert verify_consistency(1, 4, ROOTS[1], ROOTS[3], proof)


# Consistency proofs.


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY_VECTORS)
def test_consistency_proof_vectors(old: int, new: int, expected: list[str]) -> None:
    proof = consistency_proof(old, new, LEAVES)
    assert hexes(proof) == expected
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY_VECTORS)
def test_consistency_vector_corruptions_fail(old: int, new: int, expected: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in expected]
    r1, r2 = ROOTS[old], ROOTS[new]
    assert verify_consistency(old, new, r1, r2, proof)
    if not proof:
        return
    probes: list[tuple[Any, ...]] = [
        (old - 1, new, r1, r2, proof),
        (old + 1, new, r1, r2, proof),
        (old ^ 2, new, r1, r2, proof),
        (old, new * 2, r1, r2, proof),
        (old, new // 2, r1, r2, proof),
        (old, new, b"WrongRoot", r2, proof),
        (old, new, r1, b"WrongRoot", proof),
        (old, new, SOME_HASH, r2, proof),
        (old, new, r1, SOME_HASH, proof),
        (old, new, r2, r1, proof),
        (old, new, r1, r2, []),
        (old, new, r1, r2, [*proof, b""]),
        (old, new, r1, r2, [*proof, r1]),
        (old, new, r1, r2, [*proof, r2]),
        (old, new, r1, r2, [*proof, proof[-1]]),
        (old, new, r1, r2, [b"", *proof]),
        (old, new, r1, r2, [r1, *proof]),
        (old, new, r1, r2, [r2, *proof]),
        (old, new, r1, r2, [proof[0], *proof]),
        (old, new, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        probes.append((old, new, r1, r2, [*proof[:i], flip(proof[i], 4), *proof[i + 1 :]]))
        probes.append((old, new, r1, r2, [*proof[:i], EMPTY_ROOT, *proof[i + 1 :]]))
    for probe in probes:
        assert verify_consistency(*probe) is False, probe


# proof/proof_test.go (TestConsistency), as node positions in NODES; _L7 as above.
CONSISTENCY_SHAPES: list[tuple[int, int, list[bytes]]] = [
    (1, 2, [NODES[0][1]]),
    (1, 4, [NODES[0][1], NODES[1][1]]),
    (1, 6, [NODES[0][1], NODES[1][1], NODES[1][2]]),
    (2, 3, [NODES[0][2]]),
    (2, 8, [NODES[1][1], NODES[2][1]]),
    (3, 7, [NODES[0][2], NODES[0][3], NODES[1][0], _L7]),
    (4, 7, [_L7]),
    (5, 7, [NODES[0][4], NODES[0][5], NODES[0][6], NODES[2][0]]),
    (6, 7, [NODES[1][2], NODES[0][6], NODES[2][0]]),
    (7, 8, [NODES[0][6], NODES[0][7], NODES[1][2], NODES[2][0]]),
    (2, 4, [NODES[1][1]]),
    (3, 5, [NODES[0][2], NODES[0][3], NODES[1][0], NODES[0][4]]),
    (3, 6, [NODES[0][2], NODES[0][3], NODES[1][0], NODES[1][2]]),
    (4, 6, [NODES[1][2]]),
    (1, 7, [NODES[0][1], NODES[1][1], _L7]),
    *((n, n, []) for n in range(1, 9)),
]


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY_SHAPES)
def test_consistency_proof_shapes(old: int, new: int, expected: list[bytes]) -> None:
    assert consistency_proof(old, new, LEAVES) == expected
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], expected)


def test_consistency_proofs_match_reference() -> None:
    for new in range(1, 50):
        hashes = POOL[:new]
        r2 = root(hashes)
        for old in range(1, new + 1):
            proof = consistency_proof(old, new, hashes)
            assert proof == ref_subproof(old, hashes, True), (old, new)
            assert len(proof) <= new.bit_length() + 1
            assert verify_consistency(old, new, root(hashes[:old]), r2, proof)


def test_consistency_edge_cases() -> None:
    r1, r2 = ROOTS[1], ROOTS[2]
    # Equal sizes: empty proof and equal roots, nothing else.
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(1, 1, r1, r1, [])
    assert verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    assert not verify_consistency(1, 1, r1, r2, [])
    assert not verify_consistency(1, 1, r1, r1, [EMPTY_ROOT])
    assert not verify_consistency(0, 0, SOME_HASH, SOME_HASH, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    # The empty tree is a prefix of every tree; its root is known.
    assert consistency_proof(0, 5, LEAVES) == []
    assert verify_consistency(0, 5, EMPTY_ROOT, ROOTS[5], [])
    assert verify_consistency(0, 1, EMPTY_ROOT, SOME_HASH, [])
    assert not verify_consistency(0, 1, SOME_HASH, r1, [])
    assert not verify_consistency(0, 1, EMPTY_ROOT, r1, [EMPTY_ROOT])
    # Time travel, and a real change of size with no proof.
    assert not verify_consistency(1, 0, r1, EMPTY_ROOT, [])
    assert not verify_consistency(2, 1, r2, r1, [])
    assert not verify_consistency(1, 2, r1, r2, [])
    # Power-of-two old sizes: the old root is omitted from the proof, and supplying it breaks it.
    for old in (1, 2, 4):
        proof = consistency_proof(old, 7, LEAVES)
        assert ROOTS[old] not in proof
        assert verify_consistency(old, 7, ROOTS[old], ROOTS[7], proof)
        assert not verify_consistency(old, 7, ROOTS[old], ROOTS[7], [ROOTS[old], *proof])


def test_consistency_proof_argument_errors() -> None:
    for old, new in [(5, 0), (9, 8), (-1, 3), (0, -1)]:
        with pytest.raises(ValueError, match=r"must be|larger than"):
            consistency_proof(old, new, LEAVES)
    with pytest.raises(ValueError, match="leaf hashes given"):
        consistency_proof(3, 9, LEAVES)
    assert consistency_proof(3, 3, []) == []


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_consistency_property(data: st.DataObject) -> None:
    new = data.draw(st.integers(1, 2000), label="new")
    old = data.draw(st.integers(1, new), label="old")
    hashes = POOL[:new]
    r1, r2 = root(hashes[:old]), root(hashes)
    proof = consistency_proof(old, new, hashes)
    assert verify_consistency(old, new, r1, r2, proof)
    assert len(proof) <= new.bit_length() + 1

    calls: list[tuple[int, int]] = []
    assert consistency_proof(old, new, range_getter(hashes, calls)) == proof
    assert len(calls) <= 2 * new.bit_length() + 1

    # The old tree is not a prefix of the new one: a leaf before old_size differs.
    j = data.draw(st.integers(0, old - 1), label="changed leaf")
    forked = [*hashes[:j], flip(hashes[j]), *hashes[j + 1 :]]
    forked_old, forked_new = root(forked[:old]), root(forked)
    assert not verify_consistency(old, new, forked_old, r2, proof)
    if old < new:
        forked_proof = consistency_proof(old, new, forked)
        assert not verify_consistency(old, new, r1, forked_new, forked_proof)
        assert not verify_consistency(old, new, forked_old, r2, forked_proof)
        assert verify_consistency(old, new, forked_old, forked_new, forked_proof)
    if old == new:
        assert proof == []
        assert not verify_consistency(old, new, r1, flip(r2), proof)
        return

    # Any changed proof node fails, and so do missing, extra and changed roots or sizes.
    for i in range(len(proof)):
        bit = data.draw(st.integers(0, 255), label="bit")
        tampered = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
        assert not verify_consistency(old, new, r1, r2, tampered)
    assert not verify_consistency(old, new, r1, r2, proof[:-1])
    assert not verify_consistency(old, new, r1, r2, proof[1:])
    assert not verify_consistency(old, new, r1, r2, [*proof, r2])
    assert not verify_consistency(old, new, flip(r1), r2, proof)
    assert not verify_consistency(old, new, r1, flip(r2), proof)
    assert not verify_consistency(old, new, r2, r1, proof)
    # Changing the old size, or doubling or halving the new one, always fails; see
    # test_proof_binds_size_only_through_the_shape for new_size +- 1.
    for bad_old in (old - 1, old + 1, old ^ 2):
        if bad_old != old:
            assert not verify_consistency(bad_old, new, r1, r2, proof)
    assert not verify_consistency(old, new * 2, r1, r2, proof)
    assert not verify_consistency(old, new // 2, r1, r2, proof)


# Verifiers never raise.

_GARBAGE = [
    None,
    -1,
    True,
    1.5,
    "a" * 32,
    b"",
    b"x" * 31,
    b"x" * 33,
    [b"x" * 32],
    object(),
    2**80,
]


@pytest.mark.parametrize("garbage", _GARBAGE)
def test_verifiers_reject_garbage_in_any_position(garbage: Any) -> None:
    proof = inclusion_proof(5, 8, LEAVES)
    good_inc: list[Any] = [LEAVES[5], 5, 8, proof, ROOTS[8]]
    for position in range(5):
        args = list(good_inc)
        args[position] = garbage
        assert verify_inclusion(*args) is False
    cproof = consistency_proof(3, 8, LEAVES)
    good_con: list[Any] = [3, 8, ROOTS[3], ROOTS[8], cproof]
    for position in range(5):
        args = list(good_con)
        args[position] = garbage
        assert verify_consistency(*args) is False


def test_verifiers_reject_malformed_proofs() -> None:
    proof = inclusion_proof(5, 8, LEAVES)
    leaf, r = LEAVES[5], ROOTS[8]
    for bad in (
        [*proof[:2], proof[2][:31]],
        [*proof[:2], None],
        [*proof, *proof],
        [SOME_HASH] * 10_000,
        b"".join(proof),
        "".join(p.hex() for p in proof),
        iter(proof),
        {0: proof[0]},
    ):
        assert verify_inclusion(leaf, 5, 8, bad, r) is False  # type: ignore[arg-type]
        assert verify_consistency(3, 8, ROOTS[3], r, bad) is False  # type: ignore[arg-type]
    # Tuples and bytearrays are fine.
    assert verify_inclusion(bytearray(leaf), 5, 8, tuple(proof), bytearray(r))  # type: ignore[arg-type]

    class Hostile(Sequence[bytes]):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: Any) -> Any:
            raise RuntimeError("boom")

    assert verify_inclusion(leaf, 5, 8, Hostile(), r) is False
    assert verify_consistency(3, 8, ROOTS[3], r, Hostile()) is False


_anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2**70),
    st.binary(max_size=40),
    st.text(max_size=40),
    st.lists(st.binary(min_size=32, max_size=32), max_size=5),
    st.lists(st.binary(max_size=40), max_size=5),
)


@settings(max_examples=500, deadline=None)
@given(_anything, _anything, _anything, _anything, _anything)
def test_verifiers_never_raise(a: Any, b: Any, c: Any, d: Any, e: Any) -> None:
    assert isinstance(verify_inclusion(a, b, c, d, e), bool)
    assert isinstance(verify_consistency(a, b, c, d, e), bool)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 2**64),
    st.integers(1, 2**64),
    st.lists(st.binary(min_size=32, max_size=32), max_size=70),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
)
def test_random_proofs_do_not_verify(
    index: int, size: int, proof: list[bytes], leaf: bytes, r: bytes
) -> None:
    assume(leaf != r)
    assert verify_inclusion(leaf, index, size, proof, r) is False
    old = min(index, size)
    assume(not (old == size and r == leaf))
    assert verify_consistency(old, size, leaf, r, proof) is False


# Scale: a million leaves, linear time.


def test_million_leaves() -> None:
    n = 1_000_000
    sha256 = hashlib.sha256
    hashes = [sha256(b"\x00" + i.to_bytes(8, "big")).digest() for i in range(n)]

    started = time.perf_counter()
    expected = root(hashes)
    root_seconds = time.perf_counter() - started

    started = time.perf_counter()
    compact = CompactRange()
    for h in hashes:
        compact.append(h)
    append_seconds = time.perf_counter() - started

    assert compact.size == n
    assert compact.root() == expected
    assert len(compact.hashes) == n.bit_count()
    print(f"root(1e6): {root_seconds:.2f}s; CompactRange.append x 1e6: {append_seconds:.2f}s")
