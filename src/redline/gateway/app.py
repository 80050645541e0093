"""The gateway application: built by ``create_app`` from validated settings, no module state."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from redline.authorisation import Keyring
from redline.authorisation.authoriser import Authoriser
from redline.canonical import sha256_digest
from redline.decision import Decision, Reason
from redline.detectors import registry
from redline.errors import (
    BodyTooLarge,
    ConfigurationError,
    CosignatureOverdue,
    Forbidden,
    LedgerUnavailable,
    RedlineError,
    Unauthenticated,
)
from redline.gateway.wire import error_response
from redline.ledger import AppendedEntry, EntryDraft, LedgerAppender, new_decision_id
from redline.ledger.checkpoints import Checkpointer, load_or_create_key
from redline.ledger.notes import NoteError, VerifierKey, open_checkpoint
from redline.metrics import Metrics
from redline.pipeline import Pipeline
from redline.policy import Action, PolicyPack, load_pack, pack_hash
from redline.principals import KeyRecord, Principal, Role, secret_matches, split_key
from redline.providers import Provider, Router
from redline.providers.echo import EchoModel
from redline.providers.openai_compatible import OpenAICompatible
from redline.settings import Settings
from redline.store import Content, Store
from redline.store.sqlite import SQLiteStore

log = logging.getLogger("redline.gateway")

KEY_CACHE_SECONDS = 1.0
COSIGNATURE_CHECK_SECONDS = 5.0


@dataclass
class Call:
    """One request's bookkeeping as it moves through the gateway."""

    endpoint: str
    decision_id: str = field(default_factory=new_decision_id)
    started: float = field(default_factory=time.perf_counter)
    principal: Principal | None = None
    raw: bytes = b""
    model: str | None = None
    upstream: str | None = None


class Gateway:
    """Everything one running gateway shares across requests."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.bounds = settings.bounds
        self.pack: PolicyPack = load_pack(settings.policy)
        self.pack_hash = pack_hash(self.pack)
        check_upstreams_allowed(settings, self.pack)
        self.metrics = Metrics()
        self.store: Store = store or SQLiteStore(settings.database_path)
        self.pipeline = Pipeline(
            self.pack,
            registry.build(settings.detectors, self.pack, settings),
            budget_s=settings.detector_budget_ms / 1000,
            # A judge makes network calls: never wait for one on the event loop.
            inline_max_chars=0 if settings.judge is not None else 8192,
        )
        key = load_or_create_key(settings.ledger_key_path, settings.ledger_origin)
        self.ledger_verifier = key.to_vkey()
        self.appender = LedgerAppender(
            self.store,
            on_commit=self.metrics.on_commit,
            checkpointer=Checkpointer(
                self.store,
                key,
                settings.ledger_origin,
                every_entries=settings.checkpoint_every_entries,
                every_seconds=settings.checkpoint_every_seconds,
            ),
        )
        self.keyring = Keyring(settings.authorisation_keys_path)
        self.keyring.active()  # create the signing key now, not on the first approval
        self.authoriser = Authoriser(
            self.pack,
            self.pack_hash,
            self.store,
            self.appender,
            self.keyring,
            issuer=settings.ledger_origin,
        )
        self.router = Router(())
        self._session: aiohttp.ClientSession | None = None
        self._keys: dict[str, tuple[float, KeyRecord | None]] = {}
        ledger_policy = self.pack.ledger
        self._cosigners = (
            [VerifierKey.from_vkey(vkey) for vkey in ledger_policy.cosigners]
            if ledger_policy is not None
            else []
        )
        self._started = dt.datetime.now(dt.UTC)
        self._cosigned_checked = (0.0, False)

    async def start(self) -> None:
        # Everything built so far (policy, compiled rules, settings) lives as long as the
        # process: freezing it keeps full collections short (they were the p99 tail), and a
        # higher first threshold means fewer young collections under load.
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)
        self.appender.start()
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(
                total=None, connect=self.settings.upstream_connect_timeout_s
            ),
            auto_decompress=False,
        )
        self.router = Router(self._providers(self._session))

    async def stop(self) -> None:
        await self.router.close()
        if self._session is not None:
            await self._session.close()
        self.appender.close()
        self.pipeline.close()
        self.store.close()

    def _providers(self, session: aiohttp.ClientSession) -> Sequence[Provider]:
        providers: list[Provider] = []
        for upstream in self.settings.upstreams:
            if upstream.kind == "echo":
                providers.append(EchoModel(upstream))
            else:
                providers.append(
                    OpenAICompatible(
                        upstream,
                        session,
                        api_key=self.settings.upstream_api_key(upstream),
                        read_timeout_s=self.settings.upstream_read_timeout_s,
                    )
                )
        return providers

    # -- steps shared by the endpoints -------------------------------------------------------

    def authenticate(self, request: Request, role: Role | None) -> Principal:
        presented = _presented_key(request)
        if presented is None:
            raise Unauthenticated("no API key: send 'Authorization: Bearer <key>'")
        parts = split_key(presented)
        record = self._key_record(parts[0]) if parts else None
        if parts is None or record is None or not secret_matches(record, parts[1]):
            raise Unauthenticated("the API key is not valid")
        if record.revoked_at is not None:
            raise Unauthenticated("the API key has been revoked")
        principal = record.principal()
        if role is not None and not principal.has(role):
            raise Forbidden(f"this endpoint needs the '{role}' role")
        return principal

    def _key_record(self, key_id: str) -> KeyRecord | None:
        """Key records are cached for ``KEY_CACHE_SECONDS``: a revocation applies within that."""
        now = time.monotonic()
        cached = self._keys.get(key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        record = self.store.get_key(key_id)
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[key_id] = (now + KEY_CACHE_SECONDS, record)
        return record

    def require_cosignature(self) -> None:
        """Fail closed once the pack's co-signing deadline has passed (checked every few seconds).

        The clock runs from the newest checkpoint every required co-signer has signed, or from
        the log's first checkpoint (or this gateway's start) if none has been co-signed yet.
        """
        policy = self.pack.ledger
        if policy is None:
            return
        checked_at, overdue = self._cosigned_checked
        if time.monotonic() - checked_at > COSIGNATURE_CHECK_SECONDS:
            reference = self._started
            checkpoints = self.store.list_checkpoints()
            if checkpoints:
                reference = dt.datetime.fromisoformat(checkpoints[0].created_at)
            for checkpoint in reversed(checkpoints):
                if checkpoint.cosigned_at is not None and self._cosigned(checkpoint.note):
                    reference = dt.datetime.fromisoformat(checkpoint.cosigned_at)
                    break
            age = dt.datetime.now(dt.UTC) - reference
            overdue = age > dt.timedelta(hours=policy.max_cosignature_age_hours)
            self._cosigned_checked = (time.monotonic(), overdue)
        if overdue:
            raise CosignatureOverdue(
                "no checkpoint co-signed by every party the policy names within "
                f"{policy.max_cosignature_age_hours:g} hours; requests are refused until one is"
            )

    def _cosigned(self, note: str) -> bool:
        for cosigner in self._cosigners:
            try:
                _, names = open_checkpoint(note, [cosigner])
            except NoteError:
                return False
            if cosigner.name not in names:
                return False
        return True

    async def read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(f"request body is {declared} bytes; the limit is {limit} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"request body is over the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def record(self, call: Call, decision: Decision) -> AppendedEntry:
        """Append the decision durably. Raises ``LedgerUnavailable``: the caller must refuse."""
        contents: tuple[Content, ...] = ()
        digest = sha256_digest(call.raw) if call.raw else None
        if digest is not None and self.settings.store_bodies:
            contents = (Content(call.decision_id, "request", digest, call.raw),)
        draft = EntryDraft(
            decision_id=call.decision_id,
            time=dt.datetime.now(dt.UTC),
            endpoint=call.endpoint,
            principal=call.principal,
            decision=decision,
            policy_id=self.pack.id,
            policy_hash=self.pack_hash,
            detectors=self.pipeline.versions,
            request_digest=digest,
            model=call.model,
            upstream=call.upstream,
            contents=contents,
        )
        appended = await self.appender.append(draft)
        code = decision.reasons[0].code if decision.reasons else ""
        self.metrics.decisions.labels(decision.kind.value, decision.red_line or "", code).inc()
        log.info(
            "decision id=%s seq=%d endpoint=%s key=%s decision=%s red_line=%s request=%s",
            call.decision_id,
            appended.seq,
            call.endpoint,
            call.principal.key_id if call.principal else "-",
            decision.kind.value,
            decision.red_line or "-",
            digest or "-",
        )
        return appended

    async def refuse(self, call: Call, exc: RedlineError) -> Response:
        """Record a request refused before inspection (bad input, no key, unknown model), and
        answer it in the OpenAI error shape; if even the refusal cannot be recorded, say so."""
        decision = Decision(Action.BLOCK, reasons=(Reason(code=exc.code, detail=exc.message),))
        try:
            await self.record(call, decision)
        except LedgerUnavailable as ledger_down:
            return error_response(ledger_down, None)
        return error_response(exc, call.decision_id)


def check_upstreams_allowed(settings: Settings, pack: PolicyPack) -> None:
    """Approved endpoints only: every upstream host must be in the pack's ``allowed_hosts``."""
    allowed = set(pack.upstreams.allowed_hosts)
    if settings.judge is not None and settings.judge.host not in allowed:
        raise ConfigurationError(
            f"judge.base_url: host '{settings.judge.host}' is not approved by policy '{pack.id}' "
            f"(upstreams.allowed_hosts: {', '.join(sorted(allowed))})"
        )
    for index, upstream in enumerate(settings.upstreams):
        host = upstream.host
        if host is not None and host not in allowed:
            raise ConfigurationError(
                f"upstreams[{index}].base_url: host '{host}' is not approved by policy "
                f"'{pack.id}' (upstreams.allowed_hosts: {', '.join(sorted(allowed))}); use an "
                "approved endpoint or roll out a policy version that approves it"
            )


def _presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    api_key = request.headers.get("x-api-key")
    return api_key.strip() if api_key else None


def create_app(settings: Settings, store: Store | None = None) -> Starlette:
    from redline.gateway import chat, check, holds, ops

    gateway = Gateway(settings, store)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    routes = [
        Route("/v1/chat/completions", chat.chat_completions, methods=["POST"]),
        Route("/v1/check", check.check, methods=["POST"]),
        Route("/v1/models", ops.models, methods=["GET"]),
        Route("/v1/holds", holds.list_holds, methods=["GET"]),
        Route("/v1/holds/{hold_id}", holds.show_hold, methods=["GET"]),
        Route("/v1/holds/{hold_id}/approve", holds.approve_hold, methods=["POST"]),
        Route("/v1/holds/{hold_id}/deny", holds.deny_hold, methods=["POST"]),
        Route("/v1/authorisation/redeem", holds.redeem_token, methods=["POST"]),
        Route("/.well-known/jwks.json", holds.jwks, methods=["GET"]),
        Route("/v1/decisions/{decision_id}", ops.decision, methods=["GET"]),
        Route("/v1/ledger/checkpoint", ops.checkpoint, methods=["GET"]),
        Route("/v1/ledger/key", ops.ledger_key, methods=["GET"]),
        Route("/v1/ledger/receipts/{decision_id}", ops.ledger_receipt, methods=["GET"]),
        Route("/v1/ledger/consistency", ops.ledger_consistency, methods=["GET"]),
        Route("/healthz", ops.healthz, methods=["GET"]),
        Route("/readyz", ops.readyz, methods=["GET"]),
        Route("/metrics", ops.metrics, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.gateway = gateway
    return app


__all__ = ["Call", "Gateway", "LedgerUnavailable", "create_app"]
