"""Authorisation token verification time, beside a baseline measured in the same run.

    .venv/bin/python bench/authorisation_tokens.py [--count 20000] [--guarded 2000]

1. ``verify`` without a replay guard: parse, header checks, Ed25519 signature, claims, tool and
   RFC 8785 arguments digest (the arguments given as the JSON text a model's tool call carries).
2. ``verify`` with a ``UsedTokens`` SQLite file as the replay guard: each token claimed once,
   every claim committed (WAL, synchronous=FULL) before ``verify`` returns.
3. The baseline: a bare Ed25519 signature verification of the same signed bytes with
   ``cryptography``, the floor any verifier of these tokens pays.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from redline.authorisation import (  # noqa: E402
    Keyring,
    UsedTokens,
    arguments_digest,
    issue_token,
    new_claims,
    verify,
)

TOOL = "engage_target"
CALL = (
    '{"target": "T-1042", "grid": {"lat": 38.8977, "lon": -77.0365}, "munition": "none", '
    '"rounds": 2, "confirm": true, "operator_note": "approved under hold_01"}'
)


WARMUP = 200


def timings(calls: int, once: Callable[[int], object]) -> list[float]:
    """Microseconds per call of ``once(i)`` for i in range(calls), after a warm-up on other
    indexes (so that no token is claimed twice)."""
    for i in range(calls, calls + WARMUP):
        once(i)
    spent = []
    for i in range(calls):
        started = time.perf_counter_ns()
        once(i)
        spent.append((time.perf_counter_ns() - started) / 1000)
    return spent


def line(name: str, spent: list[float], baseline: float | None = None) -> str:
    cuts = statistics.quantiles(spent, n=100)
    mean = statistics.fmean(spent)
    ratio = f"   ratio {mean / baseline:.2f}x" if baseline else ""
    return f"  {name:<28} {cuts[49]:>8.1f} {cuts[98]:>8.1f} {mean:>8.1f}{ratio}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="verifications, no guard")
    parser.add_argument("--guarded", type=int, default=2_000, help="verifications with SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="redline-bench-", dir=ROOT) as tmp:
        folder = Path(tmp)
        keyring = Keyring(folder / "keys")
        key, keys = keyring.active(), keyring.public_keys()
        digest = arguments_digest(CALL)
        tokens = [
            issue_token(
                new_claims(
                    hold_id=f"hold_{i:06d}",
                    tool=TOOL,
                    arguments_sha256=digest,
                    approvers=("Ada Approver", "Bo Approver"),
                    requester="Casey Client",
                    policy_hash="sha256:" + "ab" * 32,
                    issuer="https://gateway.example",
                    lifetime_s=3600,
                ),
                key,
            )
            for i in range(max(args.count, args.guarded) + WARMUP)
        ]
        public = keys[key.kid]
        signed = [token.rsplit(".", 1) for token in tokens]
        raw = [(text.encode(), base64.urlsafe_b64decode(sig + "==")) for text, sig in signed]

        bare = timings(args.count, lambda i: public.verify(raw[i][1], raw[i][0]))
        plain = timings(args.count, lambda i: verify(tokens[i], keys, tool=TOOL, arguments=CALL))
        with UsedTokens(folder / "used.db") as used:
            guarded = timings(
                args.guarded,
                lambda i: verify(tokens[i], keys, tool=TOOL, arguments=CALL, replay=used),
            )
        baseline = statistics.fmean(bare)
        print(f"authorisation token verification, µs per token ({len(tokens[0])}-byte token)")
        print(f"  {'':<28} {'p50':>8} {'p99':>8} {'mean':>8}")
        print(line(f"bare Ed25519 verify (x{args.count:,})", bare))
        print(line(f"verify, no guard (x{args.count:,})", plain, baseline))
        print(line(f"verify + UsedTokens (x{args.guarded:,})", guarded, baseline))
        print("  target: ≤ 0.2 ms per verification")


if __name__ == "__main__":
    main()
