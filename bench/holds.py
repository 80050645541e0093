"""What holding a force-related call adds to the response, beside the same answer without one.

    .venv/bin/python bench/holds.py [--rounds 300]

Starts the fake OpenAI vendor and the gateway (durable ledger, rules and classifier, as shipped)
in this process, and sends the same agent request over and over, alternating what the vendor
answers: a call to an ungoverned tool (passed through) or a call to ``engage_target`` (withheld:
judged, canonicalised, a hold recorded in the ledger and stored, the answer rewritten). The
difference between the two columns is what hold creation adds. Alternating the two kinds keeps
the machine's noise out of the comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2 as httpx  # noqa: E402

from redline.gateway import create_app  # noqa: E402
from redline.principals import Role  # noqa: E402
from redline.settings import Settings, UpstreamConfig  # noqa: E402
from redline.store.sqlite import SQLiteStore  # noqa: E402
from tests.conftest import ServerThread, free_port, make_key  # noqa: E402
from tests.fakes.openai_upstream import FakeOpenAI  # noqa: E402
from tests.gateway.holds_support import CONVERSATION, ENGAGE_ARGUMENTS, TOOLS  # noqa: E402

UPSTREAM_KEY_ENV = "BENCH_UPSTREAM_KEY"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    os.environ[UPSTREAM_KEY_ENV] = "bench-upstream-key"
    with (
        FakeOpenAI("bench-upstream-key", record=False) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        settings = Settings(
            data_dir=Path(tmp),
            port=free_port(),
            upstreams=(
                UpstreamConfig(
                    name="vendor",
                    base_url=fake.base_url,
                    api_key_env=UPSTREAM_KEY_ENV,
                    models=("gpt-fake",),
                ),
            ),
        )
        store = SQLiteStore(settings.database_path)
        key = make_key(store, "bench-agent", Role.CLIENT, human="Bench Agent")
        with ServerThread(create_app(settings), settings.port):
            passed, held = run(fake, f"http://127.0.0.1:{settings.port}", key, args.rounds)
        store.close()
    report(passed, held)


def run(fake: FakeOpenAI, url: str, key: str, rounds: int) -> tuple[list[float], list[float]]:
    body = {"model": "gpt-fake", "messages": CONVERSATION, "tools": TOOLS}
    weather = {"name": "get_weather", "arguments": '{"grid": "NV 1234 5678"}'}
    engage = {"name": "engage_target", "arguments": ENGAGE_ARGUMENTS}
    passed: list[float] = []
    held: list[float] = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for round_ in range(rounds + 20):
            for call, samples in ((weather, passed), (engage, held)):
                fake.reply(tool_calls=[call])
                started = time.perf_counter()
                response = client.post("/v1/chat/completions", json=body)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.text
                assert ("x-redline-holds" in response.headers) == (call is engage)
                if round_ >= 20:  # the first rounds warm caches and connections
                    samples.append(elapsed)
    return passed, held


def report(passed: list[float], held: list[float]) -> None:
    def p(samples: list[float], q: float) -> float:
        return sorted(samples)[int(q * (len(samples) - 1))]

    print(f"rounds: {len(passed)} of each kind, alternating")
    print(f"{'':28}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for name, samples in (("ungoverned call (passed)", passed), ("engage_target (held)", held)):
        print(
            f"{name:28}{p(samples, 0.5):>10.2f}{p(samples, 0.99):>10.2f}"
            f"{statistics.fmean(samples):>10.2f}"
        )
    added = p(held, 0.5) - p(passed, 0.5)
    print(
        f"hold creation adds {added:.2f} ms at p50 "
        f"({p(held, 0.5) / p(passed, 0.5):.2f}x); target: <= 5 ms"
    )


if __name__ == "__main__":
    main()
