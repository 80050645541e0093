"""Merkle tree maths for the transparency log: RFC 6962 / RFC 9162 hashing, roots and proofs.

Pure functions over SHA-256 digests, no I/O. The ledger's entry with sequence number ``i`` is leaf
``i`` of the tree; its leaf hash is ``leaf_hash(entry_bytes)``. A tree of ``size`` leaves is the
first ``size`` entries of the log, so a log that only appends has exactly one tree per size.

The contract:

- Hashing MUST follow RFC 9162 §2.1.1: ``leaf_hash(e) = SHA-256(0x00 || e)``, ``node_hash(l, r) =
  SHA-256(0x01 || l || r)``, the empty tree's root is ``SHA-256("")`` and a tree of ``n > 1``
  leaves splits at the largest power of two smaller than ``n``.
- Proofs are lists of 32-byte hashes in the order of RFC 9162 §2.1.3.1 (inclusion) and §2.1.4.1
  (consistency): the node nearest the leaves first.
- Generators (``root``, ``CompactRange``, ``inclusion_proof``, ``consistency_proof``) raise
  ``ValueError`` on arguments that describe no tree (an index outside the tree, a hash that is not
  32 bytes). They never return a proof for something that is not true of the leaves given.
- Verifiers (``verify_inclusion``, ``verify_consistency``) MUST NOT raise, whatever they are
  given: anything malformed (wrong types, wrong hash lengths, negative or inconsistent sizes, too
  few or too many proof nodes) is a failed verification and returns ``False``.
- A proof authenticates a leaf or an older root against ``root`` *for the tree shape given by the
  sizes*; the sizes themselves are authenticated by whatever signs ``(size, root)`` together (the
  checkpoint). A verifier MUST take ``size`` from the same signed checkpoint as ``root``.

Proof generation reads the tree through a ``TreeSource``: either the sequence of leaf hashes
(``leaf_hashes[i]`` is leaf ``i``; it may be longer than the tree, only the first ``size`` are read)
or a callable ``get_range_hash(start, end) -> bytes`` that returns the root of the leaves
``[start, end)``. The callable is only ever asked for *complete subtrees*: ``end - start`` is a
power of two and ``start`` is a multiple of it, which is what a storage layer that keeps tiles of
complete subtrees (as Tessera does) can answer directly. It is asked for ``O(log size)`` ranges
per proof. With a sequence every asked-for subtree is hashed from its leaves, so one proof costs
``O(size)`` hashing: fine for tests and small logs; the callable is the way to do better.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "RangeHash",
    "TreeSource",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
"""The root of the tree with no leaves: SHA-256 of the empty string (RFC 9162 §2.1.1)."""

RangeHash = Callable[[int, int], bytes]
"""``get_range_hash(start, end)``: the root of leaves ``[start, end)``, a complete subtree."""

TreeSource = Sequence[bytes] | RangeHash
"""Where proof generation reads the tree from: the leaf hashes, or a ``RangeHash``."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256


def leaf_hash(entry: bytes) -> bytes:
    """Return the leaf hash of one ledger entry: SHA-256(0x00 || entry)."""
    return _sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` MUST be at least 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The incremental root of a growing tree: the roots of its complete subtrees ("peaks").

    A tree of ``size`` leaves decomposes into one complete subtree per set bit of ``size``, largest
    (leftmost) first; Trillian and transparency-dev call this list the compact range ``[0, size)``.
    ``append`` costs O(1) hashes amortised (O(log size) at worst) and ``root`` costs
    O(log size), so a writer can keep the current root as entries are appended and a verifier can
    stream an export of any length in O(log size) memory.

    The state is exactly ``(size, hashes)``; ``from_hashes`` restores it, so a writer can persist
    the peaks next to its checkpoint and resume without rereading the log.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_hashes(cls, size: int, hashes: Iterable[bytes]) -> CompactRange:
        """Restore the range of a tree of ``size`` leaves from its peaks, largest subtree first.

        There MUST be exactly one 32-byte hash per set bit of ``size``; ``ValueError`` otherwise.
        Whether the hashes really are that tree's peaks is not checkable here: compare ``root()``
        with a trusted root before relying on it.
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError("size must be a non-negative integer")
        peaks = list(hashes)
        if len(peaks) != size.bit_count():
            raise ValueError(
                f"a tree of {size} leaves has {size.bit_count()} peaks, not {len(peaks)}"
            )
        for h in peaks:
            _check_hash(h, "a peak hash")
        compact = cls()
        compact._size = size
        compact._hashes = [bytes(h) for h in peaks]
        return compact

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The peaks: roots of the complete subtrees that make up the tree, largest first."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash (32 bytes; ``ValueError`` otherwise) as leaf number ``size``."""
        _check_hash(leaf_hash, "a leaf hash")
        hashes = self._hashes
        h = bytes(leaf_hash)
        # Each trailing one bit of the old size is a peak of the same height as the subtree
        # being carried: merge them, exactly like a binary increment carries.
        carry = self._size
        while carry & 1:
            h = _sha256(_NODE_PREFIX + hashes.pop() + h).digest()
            carry >>= 1
        hashes.append(h)
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append every leaf hash in order; same contract as ``append``, with less overhead.

        On ``ValueError`` the leaves before the offending one stay appended.
        """
        # The loop of ``append``, inlined with local names: this is the hot path of ``root``.
        hashes = self._hashes
        pop, push = hashes.pop, hashes.append
        size = self._size
        sha256 = _sha256
        prefix = _NODE_PREFIX
        try:
            for h in leaf_hashes:
                if h.__class__ is not bytes:
                    if not isinstance(h, bytes | bytearray):
                        raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes")
                    h = bytes(h)
                if len(h) != HASH_SIZE:
                    raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes")
                carry = size
                while carry & 1:
                    h = sha256(prefix + pop() + h).digest()
                    carry >>= 1
                push(h)
                size += 1
        finally:
            # A leaf is pushed only once fully merged, so the state is consistent here.
            self._size = size

    def root(self) -> bytes:
        """The RFC 9162 root of the leaves appended so far (``EMPTY_ROOT`` when there are none)."""
        return _fold(self._hashes)

    def copy(self) -> CompactRange:
        """An independent copy: appending to one does not change the other."""
        return CompactRange.from_hashes(self._size, self._hashes)

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"


def _fold(peaks: Sequence[bytes]) -> bytes:
    """The root of adjacent complete subtrees of strictly decreasing size, left to right.

    RFC 9162 splits ``n`` at the largest power of two ``k < n``; ``D[0:k]`` is then the first
    peak and ``D[k:n]`` the rest, so the root is the peaks folded from the right.
    """
    if not peaks:
        return EMPTY_ROOT
    acc = peaks[-1]
    for peak in reversed(peaks[:-1]):
        acc = _sha256(_NODE_PREFIX + peak + acc).digest()
    return bytes(acc)


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """Return the Merkle Tree Hash (RFC 9162 §2.1.1) of the given leaf hashes, in order.

    Every leaf hash MUST be 32 bytes; ``ValueError`` otherwise. Runs in O(n) hashes and
    O(log n) memory besides the input; any iterable works, so an export can be streamed.
    """
    compact = CompactRange()
    compact.extend(leaf_hashes)
    return compact.root()


# Proof generation.


def _range_reader(source: TreeSource, size: int) -> RangeHash:
    """A ``RangeHash`` over ``source`` that checks every answer is a 32-byte hash."""
    if callable(source):
        getter = source

        def checked(start: int, end: int) -> bytes:
            value = getter(start, end)
            _check_hash(value, f"get_range_hash({start}, {end})")
            return bytes(value)

        return checked

    if isinstance(source, bytes | bytearray | str) or not isinstance(source, Sequence):
        raise ValueError("source must be a sequence of leaf hashes or a get_range_hash callable")
    if len(source) < size:
        raise ValueError(f"{len(source)} leaf hashes given for a tree of {size}")

    def from_leaves(start: int, end: int) -> bytes:
        return root(source[start:end])

    return from_leaves


def _edge_hash(get: RangeHash, start: int, end: int) -> bytes:
    """The root of ``[start, end)`` from complete subtrees only.

    ``start`` MUST be a multiple of the largest power of two not above ``end - start`` (true of
    every range RFC 9162 proofs ask for), so the range is its own peaks, largest first.
    """
    peaks = []
    while start < end:
        width = 1 << ((end - start).bit_length() - 1)
        peaks.append(get(start, start + width))
        start += width
    return _fold(peaks)


def _check_size(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}")


def inclusion_proof(index: int, size: int, source: TreeSource) -> list[bytes]:
    """Return the audit path of leaf ``index`` in the tree of the first ``size`` leaves.

    RFC 9162 §2.1.3.1 ``PATH(index, D[size])``: the sibling of the leaf first, the child of the
    root last; empty for a one-leaf tree. ``0 <= index < size`` MUST hold; ``ValueError``
    otherwise. See the module docstring for ``source``.
    """
    _check_size("size", size, 1)
    _check_size("index", index, 0)
    if index >= size:
        raise ValueError(f"index {index} is not in a tree of {size} leaves")
    get = _range_reader(source, size)
    path: list[bytes] = []
    lo, hi = 0, size
    # Walk from the root down to the leaf, collecting the sibling subtree at each split; only the
    # right-hand sibling can be incomplete, and then it ends at ``size``.
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(_edge_hash(get, lo + k, hi))
            hi = lo + k
        else:
            path.append(_edge_hash(get, lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, source: TreeSource) -> list[bytes]:
    """Return the proof that the tree of ``old_size`` leaves is a prefix of that of ``new_size``.

    RFC 9162 §2.1.4.1 ``PROOF(old_size, D[new_size])``. ``0 <= old_size <= new_size`` MUST hold;
    ``ValueError`` otherwise. The proof is empty when ``old_size == new_size`` and when
    ``old_size == 0`` (the empty tree is a prefix of every tree). ``source`` MUST hold the newer
    tree; see the module docstring.
    """
    _check_size("old_size", old_size, 0)
    _check_size("new_size", new_size, 0)
    if old_size > new_size:
        raise ValueError(f"old_size {old_size} is larger than new_size {new_size}")
    if old_size in (0, new_size):
        return []
    get = _range_reader(source, new_size)
    proof: list[bytes] = []
    lo, hi = 0, new_size
    # SUBPROOF(m, D[lo:hi], b): ``complete`` is b, "D[lo:hi]'s left part is the whole old tree".
    complete = True
    while hi != old_size:
        k = _split(hi - lo)
        if old_size - lo <= k:
            proof.append(_edge_hash(get, lo + k, hi))
            hi = lo + k
        else:
            proof.append(_edge_hash(get, lo, lo + k))
            lo += k
            complete = False
    # Here D[lo:hi] is a complete subtree whose leaves all belong to the old tree.
    if not complete:
        proof.append(_edge_hash(get, lo, hi))
    proof.reverse()
    return proof


# Verification. Nothing below may raise: every check returns False instead.


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_path(proof: object, size: int) -> bool:
    """A sequence of 32-byte hashes, no longer than any proof in a tree of ``size`` can be.

    Proofs in a tree of ``n`` leaves have at most ``ceil(log2 n) + 1`` nodes; the bound lets
    garbage of any length be rejected without hashing it.
    """
    return (
        isinstance(proof, Sequence)
        and not isinstance(proof, bytes | bytearray | str)
        and len(proof) <= size.bit_length() + 1
        and all(_is_hash(p) for p in proof)
    )


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True iff ``proof`` shows ``leaf_hash`` is leaf ``index`` of the tree ``(size, root)``.

    The algorithm of RFC 9162 §2.1.3.2. MUST NOT raise: malformed input returns ``False``.
    ``size`` MUST be the size signed together with ``root`` (see the module docstring).
    """
    try:
        if not (_is_hash(leaf_hash) and _is_hash(root) and _is_count(index) and _is_count(size)):
            return False
        if index >= size or not _is_path(proof, size):
            return False
        fn, sn = index, size - 1
        r = bytes(leaf_hash)
        for p in proof:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                r = _sha256(_NODE_PREFIX + p + r).digest()
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
            else:
                r = _sha256(_NODE_PREFIX + r + p).digest()
            fn >>= 1
            sn >>= 1
        return sn == 0 and r == root
    except Exception:
        # The checks above admit only well-formed values; this is a last line for exotic
        # Sequence implementations whose iteration or len() misbehaves.
        return False


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True iff ``proof`` shows ``(old_size, old_root)`` is a prefix of ``(new_size, new_root)``.

    The algorithm of RFC 9162 §2.1.4.2, with its edge cases:

    - ``old_size == new_size``: the proof MUST be empty and the roots equal.
    - ``old_size == 0``: the proof MUST be empty and ``old_root`` MUST be ``EMPTY_ROOT``; the empty
      tree is a prefix of every tree, so ``new_root`` is only checked to be a 32-byte hash.
    - ``old_size`` a power of two: the old root is itself a node of the new tree and the proof
      omits it; it is prepended before verifying.

    ``old_size > new_size``, negative sizes, hashes that are not 32 bytes and proofs of the wrong
    length all return ``False``. MUST NOT raise.
    """
    try:
        if not (_is_hash(old_root) and _is_hash(new_root)):
            return False
        if not (_is_count(old_size) and _is_count(new_size)) or old_size > new_size:
            return False
        if not _is_path(proof, new_size):
            return False
        if old_size == 0:
            if new_size == 0 and new_root != EMPTY_ROOT:
                return False
            return len(proof) == 0 and old_root == EMPTY_ROOT
        if old_size == new_size:
            return len(proof) == 0 and old_root == new_root
        if len(proof) == 0:
            return False
        path = list(proof)
        if old_size & (old_size - 1) == 0:
            path.insert(0, bytes(old_root))
        fn, sn = old_size - 1, new_size - 1
        while fn & 1:
            fn >>= 1
            sn >>= 1
        fr = sr = bytes(path[0])
        for c in path[1:]:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                fr = _sha256(_NODE_PREFIX + c + fr).digest()
                sr = _sha256(_NODE_PREFIX + c + sr).digest()
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
            else:
                sr = _sha256(_NODE_PREFIX + sr + c).digest()
            fn >>= 1
            sn >>= 1
        return sn == 0 and fr == old_root and sr == new_root
    except Exception:
        # As in verify_inclusion: unreachable for well-formed values, kept so this never raises.
        return False
