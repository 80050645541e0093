"""Shared set-up for the hold tests: a gateway whose model proposes force-related calls, the
people who authorise them, and small helpers to act as each of them over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import yaml

from redline.policy.loader import load_pack
from redline.principals import Role
from tests.conftest import RunningGateway, make_key
from tests.fakes.openai_upstream import FakeOpenAI

ENGAGE = {
    "type": "function",
    "function": {
        "name": "engage_target",
        "description": "Engage the designated target with the given munition.",
        "parameters": {
            "type": "object",
            "properties": {"target_id": {"type": "string"}, "munition": {"type": "string"}},
        },
    },
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather at a grid reference.",
        "parameters": {"type": "object", "properties": {"grid": {"type": "string"}}},
    },
}
TOOLS = [ENGAGE, WEATHER]
CONVERSATION = [
    {
        "role": "system",
        "content": "You are a fires-support assistant. Engagements you propose are reviewed by "
        "two human authorisers before anything happens.",
    },
    {"role": "user", "content": "Hostile armour confirmed at grid NV 1234 5678. Propose it."},
]
ENGAGE_ARGUMENTS = '{"target_id": "T-17", "munition": "M795"}'


@dataclass
class People:
    """Keys for the people around one hold: the requester and three authorisers in other units,
    one of whom also holds a second key (same human), and the requester's own authoriser key."""

    gateway: RunningGateway
    alice: str
    bob: str
    carol: str
    alice_second_key: str
    requester_as_authoriser: str
    same_unit_authoriser: str

    def http(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.gateway.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )

    def approve(self, hold_id: str, key: str, reason: str = "Positive ID; ROE met.") -> Any:
        with self.http(key) as http:
            return http.post(f"/v1/holds/{hold_id}/approve", json={"reason": reason})

    def deny(self, hold_id: str, key: str, reason: str = "Civilians near the target.") -> Any:
        with self.http(key) as http:
            return http.post(f"/v1/holds/{hold_id}/deny", json={"reason": reason})

    def hold(self, hold_id: str, key: str | None = None) -> dict[str, Any]:
        with self.http(key or self.gateway.client_key) as http:
            response = http.get(f"/v1/holds/{hold_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def jwks(self) -> dict[str, Any]:
        return httpx.get(f"{self.gateway.url}/.well-known/jwks.json").json()

    def redeem(self, token: str, tool: str, arguments: Any) -> httpx.Response:
        with self.http(self.gateway.client_key) as http:
            body = {"token": token, "tool": tool, "arguments": arguments}
            return http.post("/v1/authorisation/redeem", json=body)

    def steps(self) -> list[tuple[str, str | None]]:
        """``(step, code)`` of every authorisation entry in the ledger, in order."""
        return [
            (entry["step"], entry["code"])
            for entry in self.gateway.entries()
            if entry["schema"] == "redline.authorisation.v1"
        ]

    def propose(
        self, fake: FakeOpenAI, calls: list[dict[str, str]], *, content: str | None = None
    ) -> Any:
        """One round of the agent loop whose model proposes ``calls``; the raw SDK response."""
        fake.reply(content=content, tool_calls=calls)
        client = self.gateway.openai()
        return client.chat.completions.with_raw_response.create(
            model="gpt-fake", messages=CONVERSATION, tools=TOOLS
        )

    def held_engagement(self, fake: FakeOpenAI) -> str:
        raw = self.propose(fake, [{"name": "engage_target", "arguments": ENGAGE_ARGUMENTS}])
        return raw.headers["x-redline-holds"]


def people(gateway: RunningGateway) -> People:
    store = gateway.store
    return People(
        gateway=gateway,
        alice=make_key(store, "alice", Role.AUTHORISER, human="Alice Ames", unit="command"),
        bob=make_key(store, "bob", Role.AUTHORISER, human="Bob Burke", unit="legal"),
        carol=make_key(store, "carol", Role.AUTHORISER, human="Carol Cruz", unit="command"),
        alice_second_key=make_key(
            store, "alice-laptop", Role.AUTHORISER, human="Alice Ames", unit="command"
        ),
        requester_as_authoriser=make_key(
            store, "casey-authoriser", Role.AUTHORISER, human="Casey Client", unit="ops"
        ),
        same_unit_authoriser=make_key(
            store, "dana", Role.AUTHORISER, human="Dana Diaz", unit="test-unit"
        ),
    )


def post_as_client(gateway: RunningGateway, path: str, body: dict[str, Any]) -> httpx.Response:
    """A raw POST with the gateway's client key, for bodies the SDK would not send."""
    headers = {"Authorization": f"Bearer {gateway.client_key}"}
    return httpx.post(f"{gateway.url}{path}", headers=headers, json=body, timeout=30)


def policy_with(tmp_path: Path, **control: Any) -> str:
    """The shipped pack with its force control changed, written to a file the gateway loads."""
    pack = load_pack("agreement")
    controls = [pack.force_controls[0].model_copy(update=control)]
    document = pack.model_copy(update={"force_controls": tuple(controls)}).model_dump(
        mode="json", by_alias=True
    )
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


StartGateway = Callable[..., RunningGateway]
