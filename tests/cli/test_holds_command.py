"""``redline holds``: an authoriser's commands against a running gateway, over its API."""

from __future__ import annotations

from click.testing import CliRunner, Result

from redline.cli import main
from tests.fakes.openai_upstream import FakeOpenAI
from tests.gateway.holds_support import People, StartGateway, people


def holds(crew: People, key: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["holds", "--url", crew.gateway.url, "--key", key, *args])


def test_an_authoriser_lists_shows_and_denies_a_hold(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    crew = people(start_gateway(fake_openai))
    hold_id = crew.held_engagement(fake_openai)

    listed = holds(crew, crew.alice, "list", "--status", "pending")
    assert listed.exit_code == 0, listed.output
    assert hold_id in listed.output
    assert "engage_target" in listed.output

    shown = holds(crew, crew.alice, "show", hold_id)
    assert "requester  Casey Client" in shown.output
    assert "2 distinct 'authoriser' approvals" in shown.output

    denied = holds(crew, crew.bob, "deny", hold_id, "--reason", "Civilians in the area.")
    assert denied.exit_code == 0, denied.output
    assert "(denied)" in denied.output
    assert crew.hold(hold_id)["status"] == "denied"


def test_a_refused_approval_exits_non_zero_and_names_the_rule(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    crew = people(start_gateway(fake_openai))
    hold_id = crew.held_engagement(fake_openai)
    refused = holds(crew, crew.requester_as_authoriser, "approve", hold_id, "--reason", "mine")
    assert refused.exit_code == 1
    assert "own_hold, HTTP 403" in refused.output


def test_an_unreachable_gateway_or_bad_url_is_a_clear_error() -> None:
    result = CliRunner().invoke(
        main, ["holds", "--url", "http://127.0.0.1:9", "--key", "rlk_x", "list"]
    )
    assert result.exit_code == 1
    assert "cannot reach the gateway" in result.output
    bad = CliRunner().invoke(main, ["holds", "--url", "file:///etc/passwd", "--key", "k", "list"])
    assert bad.exit_code == 2
    assert "http:// or https://" in bad.output
