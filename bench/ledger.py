"""Ledger throughput and verification time, each beside a baseline measured in the same run.

    .venv/bin/python bench/ledger.py [--seconds 5] [--writers 64] [--entries 1000000]

1. Durable appends per second on SQLite with concurrent writers, through the group-committing
   appender (every append fsynced before it returns), against the same store committing each
   entry on its own (one fsync per entry): the ratio is what group commit buys.
2. Offline verification of an export of ``--entries`` entries (real entry encoding, checkpoints
   every 10,000), against just reading and hashing the same file: the ratio is the cost of the
   checks on top of the hashing any verifier must do.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from redline.ledger import LedgerAppender, encode_entry  # noqa: E402
from redline.ledger.checkpoints import load_or_create_key  # noqa: E402
from redline.ledger.export import verify  # noqa: E402
from redline.ledger.notes import Checkpoint, sign  # noqa: E402
from redline.ledger.tree import CompactRange, leaf_hash  # noqa: E402
from redline.store import PendingEntry  # noqa: E402
from redline.store.sqlite import SQLiteStore  # noqa: E402
from tests.ledger.test_appender import draft  # noqa: E402


def appends(folder: Path, seconds: float, writers: int) -> tuple[float, float]:
    store = SQLiteStore(folder / "group.db")
    appender = LedgerAppender(store)
    appender.start()

    async def writer(deadline: float, counts: list[int]) -> None:
        while time.monotonic() < deadline:
            await appender.append(draft())
            counts[0] += 1

    async def run() -> int:
        counts = [0]
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(writer(deadline, counts) for _ in range(writers)))
        return counts[0]

    started = time.perf_counter()
    grouped = asyncio.run(run()) / (time.perf_counter() - started)
    appender.close()
    store.close()

    single = SQLiteStore(folder / "single.db")
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        entry = draft()
        pending = PendingEntry(
            entry.decision_id, "t", "allow", None, None, lambda seq, e=entry: encode_entry(e, seq)
        )
        single.write_batch([pending], [])
        count += 1
    one_by_one = count / (time.perf_counter() - started)
    single.close()
    return grouped, one_by_one


def export_of(folder: Path, entries: int) -> Path:
    key = load_or_create_key(folder / "keys" / "ledger.key", "bench.redline/ledger")
    out = folder / "export"
    (out / "checkpoints").mkdir(parents=True)
    template = draft()
    tree = CompactRange()
    with (out / "entries.jsonl").open("wb") as handle:
        for seq in range(entries):
            entry = encode_entry(dataclasses.replace(template, decision_id=f"dec_{seq:026d}"), seq)
            handle.write(entry + b"\n")
            tree.append(leaf_hash(entry))
            if tree.size % 10_000 == 0 or tree.size == entries:
                note = sign(Checkpoint("bench.redline/ledger", tree.size, tree.root()).body(), key)
                (out / "checkpoints" / f"{tree.size}.note").write_text(note)
    (out / "key.vkey").write_text(key.to_vkey())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--writers", type=int, default=64)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="redline-bench-", dir=ROOT) as tmp:
        folder = Path(tmp)
        grouped, single = appends(folder, args.seconds, args.writers)
        print(f"durable appends/s, {args.writers} concurrent writers, SQLite (fsync per commit)")
        print(f"  group commit (Redline)    {grouped:>10,.0f}")
        print(f"  one commit per entry      {single:>10,.0f}   ratio {grouped / single:.1f}x")

        out = export_of(folder, args.entries)
        size_mb = (out / "entries.jsonl").stat().st_size / 1e6
        from redline.ledger.notes import VerifierKey

        key = VerifierKey.from_vkey((out / "key.vkey").read_text())
        started = time.perf_counter()
        result = verify(out, key)
        verify_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with (out / "entries.jsonl").open("rb") as handle:
            for line in handle:
                hashlib.sha256(b"\x00" + line[:-1]).digest()
        hash_seconds = time.perf_counter() - started
        print(
            f"offline verification of {result.entries:,} entries ({size_mb:,.0f} MB), "
            f"{result.checkpoints} checkpoints"
        )
        print(f"  redline ledger verify     {verify_seconds:>8.2f} s")
        ratio = verify_seconds / hash_seconds
        print(f"  read + leaf-hash only     {hash_seconds:>8.2f} s   ratio {ratio:.1f}x")


if __name__ == "__main__":
    main()
