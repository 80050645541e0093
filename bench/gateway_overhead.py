"""Added latency and throughput of Redline versus the same fake vendor called directly, in one run.

    .venv/bin/python bench/gateway_overhead.py [--seconds 10] [--concurrency 16 64]

Starts the fake OpenAI vendor and ``redline serve`` (durable ledger on, rules detector on) as
separate processes, then drives each target with ``wrk`` (``apt-get install wrk``) at every
concurrency level, a chat-completions POST per request. Prints p50/p99 latency and requests per
second for both paths and the difference and ratio between them. This machine is noisy: compare the
two columns of one run, not figures across runs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import free_port, wait_for_port  # noqa: E402

PYTHON = sys.executable
UPSTREAM_KEY = "bench-upstream-key"
# The system prompt repeats, as in real traffic; the user message differs on every request (wrk
# fills in a counter), so caches keyed by text only help where they would help in production.
BODY = (
    '{"model": "gpt-fake", "messages": [{"role": "system", "content": "You are a logistics '
    'assistant for a maintenance depot."}, {"role": "user", "content": "Request %d: list the '
    'spare parts we need to service six generators next week, with quantities."}], '
    '"temperature": 0.2}'
)


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def run_wrk(url: str, key: str, connections: int, seconds: int, workdir: Path) -> Result:
    script = workdir / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {key}"\n'
        "counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        f"  return wrk.format(nil, nil, nil, string.format([[{BODY}]], counter))\n"
        "end\n"
    )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return Result(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_latency(out, "50%"),
        p99_ms=_latency(out, "99%"),
        errors=_errors(out),
    )


def _latency(out: str, label: str) -> float:
    match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out)
    assert match, out
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def _errors(out: str) -> int:
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    count = int(non2xx.group(1)) if non2xx else 0
    if socket_errors:
        count += sum(int(group) for group in socket_errors.groups())
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--workers", type=int, default=1, help="redline serve --workers")
    parser.add_argument(
        "--detectors", default="rules,classifier", help="comma-separated detectors to run"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench needs wrk: apt-get install wrk")

    with tempfile.TemporaryDirectory(prefix="redline-bench-") as tmp:
        workdir = Path(tmp)
        upstream_port, gateway_port = free_port(), free_port()
        detectors = '["' + '", "'.join(args.detectors.split(",")) + '"]'
        env = os.environ | {
            "BENCH_UPSTREAM_KEY": UPSTREAM_KEY,
            "PYTHONPATH": str(ROOT),
            "REDLINE_DETECTORS": detectors,
        }
        (workdir / "redline.yaml").write_text(
            f"port: {gateway_port}\n"
            "log_level: warning\n"
            "upstreams:\n"
            "  - name: fake-vendor\n"
            f"    base_url: http://127.0.0.1:{upstream_port}/v1\n"
            "    api_key_env: BENCH_UPSTREAM_KEY\n"
            "    models: [gpt-fake]\n"
        )
        redline = [PYTHON, "-m", "redline.cli", "--data-dir", str(workdir)]
        key = subprocess.run(
            [*redline, "keys", "create", "--name", "bench"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.strip()
        processes = [
            subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "tests.fakes.openai_upstream",
                    "--port",
                    str(upstream_port),
                    "--api-key",
                    UPSTREAM_KEY,
                ],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            ),
            subprocess.Popen(
                [*redline, "serve", "--workers", str(args.workers)],
                env=env,
                stderr=subprocess.DEVNULL,
            ),
        ]
        try:
            wait_for_port(upstream_port)
            wait_for_port(gateway_port)
            direct_url = f"http://127.0.0.1:{upstream_port}/v1/chat/completions"
            gateway_url = f"http://127.0.0.1:{gateway_port}/v1/chat/completions"
            run_wrk(gateway_url, key, 4, 2, workdir)  # warm up both processes
            run_wrk(direct_url, UPSTREAM_KEY, 4, 1, workdir)
            print(
                f"gateway overhead, {args.seconds} s per run, wrk 1 thread, POST chat completions,"
                f" redline workers {args.workers}, detectors {args.detectors}"
            )
            print(f"{'conc':>5} {'path':<8} {'rps':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
            for connections in args.concurrency:
                direct = run_wrk(direct_url, UPSTREAM_KEY, connections, args.seconds, workdir)
                through = run_wrk(gateway_url, key, connections, args.seconds, workdir)
                for name, result in (("direct", direct), ("redline", through)):
                    print(
                        f"{connections:>5} {name:<8} {result.rps:>9.0f} {result.p50_ms:>8.2f} "
                        f"{result.p99_ms:>8.2f} {result.errors:>7}"
                    )
                print(
                    f"{connections:>5} {'added':<8} {'':>9} "
                    f"{through.p50_ms - direct.p50_ms:>8.2f} {through.p99_ms - direct.p99_ms:>8.2f}"
                    f"   throughput ratio redline/direct {through.rps / direct.rps:.2f}"
                )
            entries = subprocess.run(
                [*redline, "ledger", "list", "--last", "1"],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout.split()
            print(f"ledger entries written durably during the run: {int(entries[0]) + 1}")
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)


if __name__ == "__main__":
    main()
