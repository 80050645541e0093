"""The README quickstart, run as written against a gateway started the way scripts/run starts it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```sh\n(.*?)```", README, flags=re.S)


def _block(marker: str) -> str:
    [block] = [b for b in BLOCKS if marker in b]
    return block


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[dict[str, str], int]]:
    port = free_port()
    env = os.environ | {"REDLINE_DATA_DIR": str(tmp_path / "data"), "REDLINE_PORT": str(port)}
    redline = str(Path(sys.executable).parent / "redline")
    server = subprocess.Popen([redline, "serve"], env=env, cwd=ROOT, stderr=subprocess.PIPE)
    try:
        wait_for_port(port)
        yield env, port
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_quickstart_answers_one_request_refuses_the_other_and_records_both(
    served: tuple[dict[str, str], int],
) -> None:
    env, port = served
    script = "\n".join(
        [
            _block("export REDLINE_KEY"),
            _block("import openai").replace("127.0.0.1:8080", f"127.0.0.1:{port}"),
            _block("redline ledger list").splitlines()[0],
        ]
    )
    if not (ROOT / ".venv").exists():  # the README speaks of .venv; use this interpreter's
        script = script.replace(".venv/bin/", str(Path(sys.executable).parent) + "/")

    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "answered: echo: Draft a maintenance schedule" in result.stdout
    assert "refused: Refused by Redline under the red line" in result.stdout
    assert "domestic-mass-surveillance" in result.stdout
    ledger_lines = [
        line for line in result.stdout.splitlines() if re.match(r"\s*\d+ .* dec_", line)
    ]
    assert len(ledger_lines) == 2
    assert "allow" in ledger_lines[0]
    assert "block" in ledger_lines[1]
    assert "DMS-" in ledger_lines[1]


def test_force_walkthrough_holds_the_call_and_verifies_only_the_approved_one(
    served: tuple[dict[str, str], int], tmp_path: Path
) -> None:
    env, port = served
    script = _block("holds --key").replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    script = script.replace(".venv/bin/", str(Path(sys.executable).parent) + "/")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env | {"REDLINE_URL": f"http://127.0.0.1:{port}"},
        cwd=tmp_path,  # the walkthrough writes jwks.json where it runs
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert re.search(r"hold_\w+\s+pending\s+0/2\s+engage_target\s+Sam Agent", result.stdout)
    assert "approved   by Alice Ames" in result.stdout
    assert "token      ey" in result.stdout  # the second approval issued it
    assert "valid: token tok_" in result.stdout
    assert "approvers  Alice Ames, Bob Burke" in result.stdout
    assert "refused (arguments_mismatch)" in result.stderr
    assert "a changed argument is refused" in result.stdout
