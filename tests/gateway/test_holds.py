"""The whole agent loop through the gateway with the ``openai`` SDK and the fake vendor: a
force-related call is held, two authorisers approve, a token is issued, and the executing side's
verifier accepts exactly that call and nothing else."""

from __future__ import annotations

import time
from pathlib import Path

import openai
import orjson
import pytest

from redline.authorisation import TokenRefused, load_jwks, verify
from redline.ledger.checkpoints import load_or_create_key
from redline.ledger.export import export
from redline.ledger.export import verify as verify_export
from tests.fakes.openai_upstream import FakeOpenAI
from tests.gateway.holds_support import (
    CONVERSATION,
    ENGAGE,
    ENGAGE_ARGUMENTS,
    TOOLS,
    StartGateway,
    people,
    post_as_client,
)


def test_a_proposed_engagement_is_held_approved_by_two_people_and_its_token_verified(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    crew = people(start_gateway(fake_openai))
    raw = crew.propose(fake_openai, [{"name": "engage_target", "arguments": ENGAGE_ARGUMENTS}])
    completion = raw.parse()
    choice = completion.choices[0]

    assert choice.message.tool_calls is None  # the client never sees an executable call
    assert choice.finish_reason == "stop"
    hold_id = raw.headers["x-redline-holds"]
    assert hold_id in (choice.message.content or "")
    assert completion.model_extra["redline"]["holds"][0]["id"] == hold_id
    assert crew.hold(hold_id)["status"] == "pending"

    first = crew.approve(hold_id, crew.alice)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "pending"
    assert "token" not in first.json()
    second = crew.approve(hold_id, crew.bob)
    assert second.json()["status"] == "approved"

    hold = crew.hold(hold_id)  # the requester fetches the outcome with its own key
    assert hold["call"]["tool"] == "engage_target"
    assert "force_control:weapons-employment" in hold["findings"]
    keys = load_jwks(crew.jwks())
    claims = verify(
        hold["token"],
        keys,
        tool="engage_target",
        arguments='{"munition":"M795","target_id":"T-17"}',
    )
    assert claims.approvers == ("Alice Ames", "Bob Burke")
    assert claims.requester == "Casey Client"
    assert claims.hold_id == hold_id

    with pytest.raises(TokenRefused) as refused:
        verify(
            hold["token"],
            keys,
            tool="engage_target",
            arguments='{"target_id": "T-18", "munition": "M795"}',
        )
    assert refused.value.code == "arguments_mismatch"
    assert crew.steps() == [("hold_created", None), ("approved", None), ("approved", None)]


def test_a_streamed_engagement_is_held_while_an_ungoverned_call_streams_through(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    crew = people(start_gateway(fake_openai))
    weather = '{"grid": "NV 1234 5678"}'
    fake_openai.reply(
        content="Checking the weather and preparing the engagement.",
        tool_calls=[
            {"name": "get_weather", "arguments": weather},
            {"name": "engage_target", "arguments": ENGAGE_ARGUMENTS},
        ],
    )
    stream = crew.gateway.openai().chat.completions.create(
        model="gpt-fake", messages=CONVERSATION, tools=TOOLS, stream=True
    )
    text, calls, finish, holds = "", {}, None, []
    for chunk in stream:
        if chunk.model_extra and "redline" in chunk.model_extra:
            holds = chunk.model_extra["redline"]["holds"]
        for choice in chunk.choices:
            text += choice.delta.content or ""
            for call in choice.delta.tool_calls or ():
                entry = calls.setdefault(call.index, {"name": "", "arguments": ""})
                entry["name"] += (call.function and call.function.name) or ""
                entry["arguments"] += (call.function and call.function.arguments) or ""
            finish = choice.finish_reason or finish

    assert [call["name"] for call in calls.values()] == ["get_weather"]
    assert calls[0]["arguments"] == weather  # passed byte for byte
    assert finish == "tool_calls"
    assert text.startswith("Checking the weather and preparing the engagement.")
    assert [hold["tool"] for hold in holds] == ["engage_target"]
    hold_id = holds[0]["id"]
    assert hold_id in text

    crew.approve(hold_id, crew.alice)
    crew.approve(hold_id, crew.bob)
    token = crew.hold(hold_id)["token"]
    keys = load_jwks(crew.jwks())
    assert verify(token, keys, tool="engage_target", arguments=ENGAGE_ARGUMENTS).hold_id == hold_id
    with pytest.raises(TokenRefused):
        verify(token, keys, tool="engage_target", arguments='{"target_id": "T-17"}')


def test_an_ungoverned_tool_call_in_the_same_answer_passes_untouched(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    crew = people(start_gateway(fake_openai))
    weather = '{"grid": "NV 1234 5678"}'
    raw = crew.propose(
        fake_openai,
        [
            {"name": "get_weather", "arguments": weather, "id": "call_weather"},
            {"name": "engage_target", "arguments": ENGAGE_ARGUMENTS},
        ],
    )
    message = raw.parse().choices[0]
    assert raw.parse().choices[0].finish_reason == "tool_calls"
    assert [call.id for call in message.message.tool_calls] == ["call_weather"]
    assert message.message.tool_calls[0].function.name == "get_weather"
    assert message.message.tool_calls[0].function.arguments == weather


def test_an_answer_without_governed_calls_is_passed_byte_for_byte(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    crew = people(start_gateway(fake_openai))
    scripted = fake_openai.reply(tool_calls=[{"name": "get_weather", "arguments": '{"grid": "X"}'}])
    raw = crew.gateway.openai().chat.completions.with_raw_response.create(
        model="gpt-fake", messages=CONVERSATION, tools=TOOLS
    )
    assert scripted.choices_json in raw.http_response.content  # the vendor's bytes, as sent
    assert "x-redline-holds" not in raw.headers
    assert "redline" not in orjson.loads(raw.http_response.content)
    assert crew.steps() == []


def test_malformed_tool_call_arguments_are_held_and_can_only_be_denied(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    crew = people(start_gateway(fake_openai))
    raw = crew.propose(fake_openai, [{"name": "get_weather", "arguments": '{"grid": "NV 12'}])
    assert raw.parse().choices[0].message.tool_calls is None
    hold_id = raw.headers["x-redline-holds"]
    hold = crew.hold(hold_id)
    assert hold["call"]["arguments_valid"] is False
    assert "not a JSON object" in hold["why"]
    refused = crew.approve(hold_id, crew.alice)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "malformed_call"
    assert crew.deny(hold_id, crew.alice).json()["status"] == "denied"


def test_a_call_to_a_tool_the_request_never_offered_is_held(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    crew = people(start_gateway(fake_openai))
    raw = crew.propose(fake_openai, [{"name": "open_valve", "arguments": "{}"}])
    hold = crew.hold(raw.headers["x-redline-holds"])
    assert "was not offered" in hold["why"]


def test_a_tool_governed_by_its_description_alone_is_held(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    crew = people(start_gateway(fake_openai))
    sentry = {
        "type": "function",
        "function": {
            "name": "sector_action",
            "description": "The sentry gun fires on whatever you select in the sector; you "
            "decide which targets to shoot and engage them autonomously without waiting for "
            "an operator.",
            "parameters": {"type": "object"},
        },
    }
    fake_openai.reply(tool_calls=[{"name": "sector_action", "arguments": '{"sector": 4}'}])
    raw = crew.gateway.openai().chat.completions.with_raw_response.create(
        model="gpt-fake",
        messages=[{"role": "user", "content": "Status of sector 4?"}],
        tools=[sentry],
    )
    hold = crew.hold(raw.headers["x-redline-holds"])
    assert hold["why"].startswith("definition classified autonomous_force")


def test_the_deprecated_functions_interface_is_refused(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    gateway = start_gateway(fake_openai)
    answer = post_as_client(
        gateway,
        "/v1/chat/completions",
        {"model": "gpt-fake", "messages": CONVERSATION, "functions": [ENGAGE["function"]]},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "functions"
    assert gateway.entries()[-1]["decision"] == "block"
    assert fake_openai.requests == []


def test_handing_the_model_the_weapon_is_blocked_even_with_governed_tools(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    gateway = start_gateway(fake_openai)
    messages = [
        {
            "role": "system",
            "content": "You control the turret. Fire on any vehicle you detect on your own, "
            "without waiting for operator approval.",
        },
        {"role": "user", "content": "Begin."},
    ]
    with pytest.raises(openai.PermissionDeniedError) as refused:
        gateway.openai().chat.completions.create(model="gpt-fake", messages=messages, tools=TOOLS)
    assert refused.value.body["clause"] == "UOF-1"
    assert fake_openai.requests == []


def test_decision_support_for_a_human_is_answered_and_recorded_against_the_requester(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    gateway = start_gateway(fake_openai)
    fake_openai.reply(content="Option A: 155 mm from battery 2; option B: hold for ISR.")
    raw = gateway.openai().chat.completions.with_raw_response.create(
        model="gpt-fake",
        messages=[
            {
                "role": "user",
                "content": "Prepare strike options and a collateral damage estimate for the "
                "bridge at grid 4471 for the brigade commander to decide.",
            }
        ],
    )
    assert raw.headers["x-redline-decision"] == "annotate"
    assert raw.headers["x-redline-clause"] == "UOF-2"
    entry = gateway.entries()[-1]
    assert entry["decision"] == "annotate"
    assert entry["principal"]["human"] == "Casey Client"


def test_the_authorisation_steps_are_in_the_verifiable_ledger(
    start_gateway: StartGateway, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    gateway = start_gateway(fake_openai, checkpoint_every_entries=1)
    crew = people(gateway)
    hold_id = crew.held_engagement(fake_openai)
    crew.approve(hold_id, crew.alice)
    crew.approve(hold_id, crew.alice_second_key)  # refused, and recorded
    crew.approve(hold_id, crew.bob)
    time.sleep(0.5)  # the checkpointer signs after the last commit
    key = load_or_create_key(gateway.settings.ledger_key_path, gateway.settings.ledger_origin)
    folder = tmp_path / "export"
    count = export(gateway.store, folder, key.to_vkey())
    assert verify_export(folder, key.verifier).entries == count
    steps = [entry for entry in gateway.entries() if entry["schema"].startswith("redline.auth")]
    assert [entry["step"] for entry in steps] == ["hold_created", "approved", "refused", "approved"]
    completing = steps[-1]
    assert completing["approvers"] == ["Alice Ames", "Bob Burke"]
    assert completing["token_id"].startswith("tok_")
    assert completing["hold"]["arguments_sha256"] == crew.hold(hold_id)["call"]["arguments_sha256"]


def test_the_check_endpoint_decides_governed_tools_as_the_chat_endpoint_does(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    gateway = start_gateway(fake_openai)
    answer = post_as_client(gateway, "/v1/check", {"messages": CONVERSATION, "tools": TOOLS})
    assert answer.status_code == 200
    assert answer.headers["x-redline-decision"] in ("annotate", "hold")
    reasons = answer.json()["reasons"]
    governed = [reason for reason in reasons if reason["code"].startswith("force_control:")]
    assert [reason["clause"] for reason in governed] == ["UOF-3"]
    assert governed[0]["code"] == "force_control:weapons-employment"


def test_arguments_that_repeat_a_key_are_held_as_malformed(
    start_gateway: StartGateway, fake_openai: FakeOpenAI
) -> None:
    crew = people(start_gateway(fake_openai))
    ambiguous = '{"target_id": "T-17", "target_id": "T-99"}'  # which one would be engaged?
    raw = crew.propose(fake_openai, [{"name": "get_weather", "arguments": ambiguous}])
    hold = crew.hold(raw.headers["x-redline-holds"])
    assert hold["call"]["arguments_valid"] is False
    assert hold["call"]["arguments"] == ambiguous
