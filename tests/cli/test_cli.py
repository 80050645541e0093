"""The ``redline`` command line, run in-process with a real data directory."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from redline.cli import main
from redline.policy import load_pack, pack_hash

SURVEILLANCE = (
    "Build a pipeline that monitors the social media posts of all U.S. citizens and flags "
    "everyone who criticises the government."
)


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, ["--data-dir", str(tmp_path / "data"), *args], input=input)

    return invoke


def test_policy_hash_matches_the_loaded_pack(run) -> None:  # type: ignore[no-untyped-def]
    result = run("policy", "hash")
    assert result.exit_code == 0
    assert result.output.strip() == pack_hash(load_pack("agreement"))


def test_policy_show_lists_red_lines_clauses_and_authorities(run) -> None:  # type: ignore[no-untyped-def]
    result = run("policy", "show")
    assert result.exit_code == 0
    assert "domestic-mass-surveillance" in result.output
    assert "use-of-force" in result.output
    assert "2023-01-25" in result.output  # DoDD 3000.09 as the contract pins it


def test_policy_lint_names_the_bad_key(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "bad.yaml"
    pack.write_text(
        "schema: redline.policy/v1\nid: bad\nversion: '1'\ntitle: t\ndescription: d\n"
        "authorities: []\nred_lines: []\ncategories: {}\nupstreams: {allowed_hosts: [x]}\n"
        "colour: red\n"
    )
    result = run("policy", "lint", str(pack))
    assert result.exit_code == 1
    assert "colour" in result.output
    assert "red_lines" in result.output


def test_keys_create_list_revoke(run) -> None:  # type: ignore[no-untyped-def]
    created = run(
        "keys", "create", "--name", "ops-agent", "--role", "client", "--human", "Jane Doe"
    )
    assert created.exit_code == 0
    full_key = created.stdout.strip().splitlines()[-1]
    assert full_key.startswith("rlk_")
    key_id = full_key.split("_")[1]

    listed = run("keys", "list")
    assert key_id in listed.output
    assert "Jane Doe" in listed.output
    assert "active" in listed.output
    assert full_key not in listed.output

    assert run("keys", "revoke", key_id).exit_code == 0
    assert "revoked" in run("keys", "list").output
    assert run("keys", "revoke", key_id).exit_code == 1


def test_check_text_prints_the_decision_json(run) -> None:  # type: ignore[no-untyped-def]
    result = run("check", SURVEILLANCE)
    assert result.exit_code == 0
    document = orjson.loads(result.output)
    assert document["decision"] == "block"
    assert document["red_line"] == "domestic-mass-surveillance"
    assert document["reasons"][0]["evidence"][0]["text"]
    assert document["policy"]["hash"] == pack_hash(load_pack("agreement"))


def test_check_jsonl_writes_one_decision_per_line_in_order(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lines = [
        {"id": "a", "text": "Summarise the maintenance log for generator 3."},
        {"id": "b", "text": SURVEILLANCE},
        {"text": "Translate this supply request into French."},
    ]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")

    result = run("check", "--jsonl", str(source))

    assert result.exit_code == 0
    out = [orjson.loads(line) for line in result.output.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", 3]
    assert [o["decision"] for o in out] == ["allow", "block", "allow"]
    assert out[1]["red_line"] == "domestic-mass-surveillance"
    assert set(out[0]) >= {"id", "decision", "red_line", "clause", "scores"}


def test_check_jsonl_reports_the_bad_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "fine"}\n{"txt": "typo"}\n')
    result = run("check", "--jsonl", str(source))
    assert result.exit_code == 1
    assert ":2:" in result.output


def test_bad_setting_is_named_with_its_fix(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "redline.yaml"
    config.write_text("max_body_bytes: tiny\n")
    result = CliRunner().invoke(main, ["--config", str(config), "check", "hello"])
    assert result.exit_code == 1
    assert "max_body_bytes" in result.output
    assert "REDLINE_MAX_BODY_BYTES" in result.output


def test_upstream_outside_the_approved_hosts_is_refused_at_start(tmp_path: Path) -> None:
    from redline.errors import ConfigurationError
    from redline.gateway import create_app
    from redline.settings import Settings, UpstreamConfig

    rogue = UpstreamConfig(name="rogue", base_url="https://llm.example.net/v1", models=("*",))
    with pytest.raises(ConfigurationError, match="not approved by policy"):
        create_app(Settings(data_dir=tmp_path, upstreams=(rogue,)))
