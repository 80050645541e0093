"""``redline holds list|show|approve|deny``: the authoriser's side, over the gateway's API.

These commands talk to a running gateway rather than to the database: an approval is an act by an
accountable person, so it goes through the same authentication, rules and ledger as every other
request. The key says who is acting (``--key`` or ``REDLINE_KEY``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import click

DEFAULT_URL = "http://127.0.0.1:8080"


@click.group()
@click.option(
    "--url", envvar="REDLINE_URL", default=DEFAULT_URL, show_default=True, help="The gateway."
)
@click.option("--key", envvar="REDLINE_KEY", required=True, help="Your API key (REDLINE_KEY).")
@click.pass_context
def holds(ctx: click.Context, url: str, key: str) -> None:
    """Review, approve and deny held force-related tool calls."""
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter("must be an http:// or https:// URL", param_hint="--url")
    ctx.obj = _Api(url.rstrip("/"), key)


class _Api:
    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in ``holds``)
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=90) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise click.ClickException(_error_message(exc)) from None
        except urllib.error.URLError as exc:
            message = f"cannot reach the gateway at {self.url}: {exc.reason}"
            raise click.ClickException(message) from None


pass_api = click.make_pass_decorator(_Api)


@holds.command(name="list")
@click.option(
    "--status",
    type=click.Choice(["pending", "approved", "denied", "expired"]),
    help="Only holds in this state (default: all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
@pass_api
def list_(api: _Api, status: str | None, as_json: bool) -> None:
    """Holds you may see, newest first (authorisers and auditors see all; clients their own)."""
    query = f"?status={status}" if status else ""
    found = api.call("GET", f"/v1/holds{query}")["data"]
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for hold in found:
        approvals = f"{len(hold['approvals'])}/{hold['required_approvals']}"
        click.echo(
            f"{hold['id']}  {hold['status']:<8} {approvals:<5} {hold['call']['tool']:<24} "
            f"{hold['requester']['human']:<20} expires {hold['expires_at']}"
        )


@holds.command()
@click.argument("hold_id")
@click.option(
    "--wait",
    type=click.FloatRange(0, 60),
    default=0,
    help="Wait up to N seconds for the hold to be decided.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
@pass_api
def show(api: _Api, hold_id: str, wait: float, as_json: bool) -> None:
    """Everything about one hold: the exact call, who asked, why it is held, who approved."""
    hold = api.call("GET", f"/v1/holds/{hold_id}?wait={wait:g}")
    if as_json:
        click.echo(json.dumps(hold, indent=2))
        return
    _print_hold(hold)


@holds.command()
@click.argument("hold_id")
@click.option("--reason", required=True, help="Why you approve: recorded in the ledger.")
@pass_api
def approve(api: _Api, hold_id: str, reason: str) -> None:
    """Approve HOLD_ID's exact call. The last approval the rule needs issues the token."""
    hold = api.call("POST", f"/v1/holds/{hold_id}/approve", {"reason": reason})
    _print_hold(hold)


@holds.command()
@click.argument("hold_id")
@click.option("--reason", required=True, help="Why you deny: recorded in the ledger.")
@pass_api
def deny(api: _Api, hold_id: str, reason: str) -> None:
    """Deny HOLD_ID; a denied hold can never be approved."""
    hold = api.call("POST", f"/v1/holds/{hold_id}/deny", {"reason": reason})
    _print_hold(hold)


def _print_hold(hold: dict[str, Any]) -> None:
    call = hold["call"]
    click.echo(f"hold       {hold['id']}  ({hold['status']})")
    click.echo(f"call       {call['tool']}({call['arguments']})  [{call['id']}]")
    click.echo(f"arguments  sha256 {call['arguments_sha256']}")
    requester = hold["requester"]
    click.echo(
        f"requester  {requester['human']} (key {requester['name']}, unit {requester['unit']})"
    )
    click.echo(f"control    {hold['control']} under {hold['clause']}: {hold['why']}")
    click.echo(
        f"rule       {hold['required_approvals']} distinct '{hold['approver_role']}' approvals; "
        f"expires {hold['expires_at']}"
    )
    for approval in hold["approvals"]:
        click.echo(
            f"approved   by {approval['by']['human']} at {approval['at']}: {approval['reason']}"
        )
    if hold.get("closed_reason") and hold["status"] == "denied":
        click.echo(f"denied     by {hold['closed_by']['human']}: {hold['closed_reason']}")
    if hold.get("token"):
        click.echo(f"token      {hold['token']}")


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        error = json.loads(exc.read())["error"]
        return f"{error['message']} ({error['code']}, HTTP {exc.code})"
    except (ValueError, KeyError, TypeError):
        return f"the gateway answered HTTP {exc.code}"
