"""A local stand-in for an OpenAI chat-completions vendor.

Redline's tests must never reach a real vendor, yet the gateway has to be exercised
against the exact bytes a vendor sends. ``FakeOpenAI`` is a real HTTP server (aiohttp)
on 127.0.0.1 that answers with scripted replies in the OpenAI wire format and fails
loudly on anything it was not told to expect, so a gateway bug shows up as a failing
test instead of a silently absorbed request.

Typical use::

    with FakeOpenAI(api_key="upstream-secret") as fake:
        fake.reply(content="Hi")
        ...  # drive the gateway, which calls fake.base_url
        fake.assert_clean()

Standalone (for benchmarks): ``python -m tests.fakes.openai_upstream --port 9100``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import enum
import json
import random
import string
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType, TracebackType
from typing import Any, Final, Literal, Self

from aiohttp import web

_orjson: ModuleType | None
try:
    import orjson as _orjson
except ModuleNotFoundError:  # pragma: no cover - orjson is a redline dependency
    _orjson = None

__all__ = [
    "AUTO_CONTENT",
    "DEFAULT_API_KEY",
    "DEFAULT_CONTENT",
    "FakeOpenAI",
    "ReceivedRequest",
    "ScriptedReply",
    "ScriptedToolCall",
    "build_reply",
    "estimate_prompt_tokens",
    "estimate_tokens",
    "main",
]

DEFAULT_API_KEY = "upstream-secret"
DEFAULT_CONTENT = "Hello from the fake vendor."


class _Auto(enum.Enum):
    """Sentinel type: lets ``content`` default differently with and without tool calls."""

    CONTENT = "auto"


#: Default for ``content``: DEFAULT_CONTENT, or None when tool calls are scripted
#: (a vendor's tool-call answer normally carries ``content: null``).
AUTO_CONTENT: Final = _Auto.CONTENT
#: Characters per streamed content / argument fragment: small enough that every
#: realistic reply arrives as several deltas, which is what streaming code must handle.
STREAM_PIECE_CHARS = 8
SYSTEM_FINGERPRINT = "fp_fakevendor"
CHAT_COMPLETIONS_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
#: Request bodies far above aiohttp's 1 MiB default are legitimate (long prompts).
MAX_REQUEST_BODY_BYTES = 64 * 1024 * 1024
_ID_ALPHABET = string.ascii_letters + string.digits
_FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})
_MODEL_CREATED = 1_700_000_000

# Error type/code pairs a real vendor uses for a given status, so error replies that
# only set ``status`` still look like the vendor's own.
_DEFAULT_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to sample from this model.", "invalid_request_error", None),
    404: (
        "The model does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    409: ("Conflict.", "invalid_request_error", None),
    422: ("Unprocessable entity.", "invalid_request_error", None),
    429: ("Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}


def _dumps(value: Any) -> bytes:
    """Serialise compactly; orjson when present because the benchmark mode is hot."""
    if _orjson is not None:
        result: bytes = _orjson.dumps(value)
        return result
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _loads(raw: bytes) -> Any:
    """Parse JSON with the same library that serialises, raising ValueError on bad input."""
    if _orjson is not None:
        return _orjson.loads(raw)
    return json.loads(raw)


def _random_id(prefix: str, length: int) -> str:
    """Vendor-shaped identifier; uniqueness matters, unpredictability does not."""
    return prefix + "".join(random.choices(_ID_ALPHABET, k=length))


def estimate_tokens(text: str) -> int:
    """Deterministic stand-in for a tokenizer: about four characters per token.

    Accounting code in the gateway needs plausible, reproducible numbers, not exact
    tiktoken counts, and pulling in a tokenizer would slow every test.
    """
    return (len(text) + 3) // 4


def _message_text(message: Any) -> str:
    """Concatenate everything in a request message that a vendor would bill for."""
    if not isinstance(message, Mapping):
        return ""
    parts: list[str] = []
    content = message.get("content")
    if isinstance(content, str):
        parts.append(content)
    elif isinstance(content, list):
        parts.extend(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    tool_calls = message.get("tool_calls")
    if isinstance(tool_calls, list):
        for call in tool_calls:
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                parts.extend(str(function.get(key) or "") for key in ("name", "arguments"))
    return "".join(parts)


def estimate_prompt_tokens(body: Mapping[str, Any]) -> int:
    """Approximate OpenAI's prompt accounting: per-message overhead plus content."""
    messages = body.get("messages")
    total = 3
    if isinstance(messages, list):
        total += sum(3 + estimate_tokens(_message_text(message)) for message in messages)
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        total += estimate_tokens(_dumps(tools).decode())
    return total


def _split(text: str, size: int = STREAM_PIECE_CHARS) -> list[str]:
    """Cut text into fixed-size pieces, the way a vendor streams token fragments."""
    return [text[start : start + size] for start in range(0, len(text), size)]


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    """Usage object with the detail blocks the real API includes."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _error_object(
    status: int, message: str | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build the ``error`` member of an OpenAI error body, defaults chosen by status."""
    default_message, error_type, code = _DEFAULT_ERRORS.get(
        status,
        ("Upstream error.", "server_error" if status >= 500 else "invalid_request_error", None),
    )
    error: dict[str, Any] = {
        "message": message if message is not None else default_message,
        "type": error_type,
        "param": None,
        "code": code,
    }
    if overrides:
        error.update(overrides)
    return error


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One HTTP request as it reached the fake, kept so tests can assert on the wire.

    ``headers`` keys are lower-cased because HTTP header names are case-insensitive
    and clients differ in how they spell them.
    """

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    json: Any


@dataclass(frozen=True, slots=True)
class ScriptedToolCall:
    """A function call the fake will return; ``id`` is what the client must echo back."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ScriptedReply:
    """One scripted vendor answer, with its JSON fragments serialised up front.

    Serialising at scripting time keeps per-request work to a few byte joins, which is
    what lets the same fake double as a cheap benchmark upstream.
    """

    content: str | None
    tool_calls: tuple[ScriptedToolCall, ...]
    finish_reason: str
    status: int
    error: dict[str, Any] | None
    delay: float
    disconnect: bool
    chunk_delay: float
    completion_tokens: int
    prompt_tokens: int | None
    headers: tuple[tuple[str, str], ...]
    choices_json: bytes = field(repr=False)
    stream_choices: tuple[bytes, ...] = field(repr=False)
    error_json: bytes = field(repr=False)

    @property
    def tool_call_ids(self) -> list[str]:
        """Ids assigned to the scripted tool calls, in order."""
        return [call.id for call in self.tool_calls]

    def describe(self) -> str:
        """Short human-readable summary for assertion messages."""
        if self.disconnect:
            return f"disconnect(delay={self.delay})"
        if self.status != 200:
            message = self.error["message"] if self.error else ""
            return f"error {self.status} {message!r}"
        names = [call.name for call in self.tool_calls]
        return f"reply content={self.content!r} tool_calls={names} delay={self.delay}"


def build_reply(
    content: str | Literal[_Auto.CONTENT] | None = AUTO_CONTENT,
    *,
    tool_calls: Sequence[Mapping[str, str]] | None = None,
    finish_reason: str | None = None,
    status: int = 200,
    error: Mapping[str, Any] | None = None,
    delay: float = 0.0,
    disconnect: bool = False,
    chunk_delay: float = 0.0,
    usage: Mapping[str, int] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ScriptedReply:
    """Validate a scripted reply and precompute its wire fragments.

    Mistakes in a script raise here, at the test line that wrote them, rather than
    surfacing later as a confusing response inside the gateway.
    """
    if status < 200 or status > 599:
        raise ValueError(f"status must be an HTTP status code, got {status}")
    if error is not None and status == 200:
        raise ValueError("an error reply needs a non-200 status")
    if delay < 0 or chunk_delay < 0:
        raise ValueError("delay and chunk_delay must be >= 0")
    calls: list[ScriptedToolCall] = []
    for raw in tool_calls or ():
        name, arguments = raw.get("name"), raw.get("arguments")
        if not isinstance(name, str) or not isinstance(arguments, str):
            raise ValueError(
                f"each tool call needs str 'name' and str 'arguments' (a JSON string): {raw!r}"
            )
        call_id = raw.get("id") or _random_id("call_", 24)
        calls.append(ScriptedToolCall(id=call_id, name=name, arguments=arguments))
    if content is AUTO_CONTENT:
        content = None if calls else DEFAULT_CONTENT
    if finish_reason is None:
        finish_reason = "tool_calls" if calls else "stop"
    if finish_reason not in _FINISH_REASONS:
        raise ValueError(f"finish_reason must be one of {sorted(_FINISH_REASONS)}")

    completion_tokens = estimate_tokens(content or "") + sum(
        estimate_tokens(call.name) + estimate_tokens(call.arguments) for call in calls
    )
    prompt_tokens: int | None = None
    if usage is not None:
        unknown = set(usage) - {"prompt_tokens", "completion_tokens"}
        if unknown:
            raise ValueError(f"usage accepts prompt_tokens/completion_tokens, not {unknown}")
        prompt_tokens = usage.get("prompt_tokens")
        completion_tokens = usage.get("completion_tokens", completion_tokens)

    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in calls
        ]
    message["annotations"] = []
    choices_json = _dumps(
        [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}]
    )

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _dumps({"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish})

    stream: list[bytes] = [
        chunk(
            {"role": "assistant", "content": "" if content is not None else None, "refusal": None}
        )
    ]
    stream.extend(chunk({"content": piece}) for piece in _split(content or ""))
    for index, call in enumerate(calls):
        header = {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        stream.append(chunk({"tool_calls": [header]}))
        stream.extend(
            chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            for piece in _split(call.arguments)
        )
    stream.append(chunk({}, finish_reason))

    error_object = _error_object(status, overrides=error) if status != 200 else None
    return ScriptedReply(
        content=content,
        tool_calls=tuple(calls),
        finish_reason=finish_reason,
        status=status,
        error=error_object,
        delay=delay,
        disconnect=disconnect,
        chunk_delay=chunk_delay,
        completion_tokens=completion_tokens,
        prompt_tokens=prompt_tokens,
        headers=tuple((headers or {}).items()),
        choices_json=choices_json,
        stream_choices=tuple(stream),
        error_json=_dumps({"error": error_object}) if error_object else b"",
    )


class FakeOpenAI:
    """Scriptable OpenAI chat-completions server on 127.0.0.1 in a background thread.

    The server owns its event loop in a daemon thread so synchronous tests, the
    synchronous ``openai`` client and an async gateway under test can all talk to it
    without sharing a loop. All bookkeeping is guarded by one lock because replies are
    scripted from the test thread while requests are served from the server thread.
    """

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        *,
        port: int = 0,
        models: Iterable[str] = ("gpt-fake",),
        record: bool = True,
        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    ) -> None:
        """Configure without starting; ``record=False`` keeps memory flat under load."""
        self.api_key = api_key
        self.models = tuple(models)
        self._requested_port = port
        self._record = record
        self._loop_factory = loop_factory or asyncio.new_event_loop
        self._lock = threading.Lock()
        self._queue: deque[ScriptedReply] = deque()
        self._default: ScriptedReply | None = None
        self._requests: list[ReceivedRequest] = []
        self._unexpected: list[str] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._port: int | None = None
        self._startup_error: BaseException | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Bind the socket and serve; returns once the port is known."""
        if self._thread is not None:
            raise RuntimeError("FakeOpenAI is already running")
        ready = threading.Event()
        self._startup_error = None
        thread = threading.Thread(target=self._serve, args=(ready,), name="FakeOpenAI", daemon=True)
        self._thread = thread
        thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError("FakeOpenAI did not start within 10 s")
        if self._startup_error is not None:
            thread.join()
            self._thread = None
            raise RuntimeError("FakeOpenAI failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        """Stop serving and join the thread; in-flight handlers get a short grace period."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop only: asserting here would mask the exception that ended the block."""
        self.stop()

    def _serve(self, ready: threading.Event) -> None:
        """Thread body: run the aiohttp app on a private loop until ``stop``."""
        loop = self._loop_factory()
        asyncio.set_event_loop(loop)
        app = web.Application(client_max_size=MAX_REQUEST_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # handler_cancellation: when a client gives up (timeout test), its delayed
        # handler is cancelled instead of lingering until shutdown.
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=0.25,
            handler_cancellation=True,
        )
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", self._requested_port)
            loop.run_until_complete(site.start())
            self._port = int(runner.addresses[0][1])
        except BaseException as exc:
            self._startup_error = exc
            loop.run_until_complete(runner.cleanup())
            loop.close()
            ready.set()
            return
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    @property
    def port(self) -> int:
        """TCP port actually bound (useful when constructed with port 0)."""
        if self._port is None or self._thread is None:
            raise RuntimeError("FakeOpenAI is not running; call start() or use `with`")
        return self._port

    @property
    def base_url(self) -> str:
        """What an OpenAI client's ``base_url`` should be set to."""
        return f"http://127.0.0.1:{self.port}/v1"

    # ----------------------------------------------------------------- scripting

    def reply(
        self,
        content: str | Literal[_Auto.CONTENT] | None = AUTO_CONTENT,
        *,
        tool_calls: Sequence[Mapping[str, str]] | None = None,
        finish_reason: str | None = None,
        status: int = 200,
        error: Mapping[str, Any] | None = None,
        delay: float = 0.0,
        disconnect: bool = False,
        chunk_delay: float = 0.0,
        usage: Mapping[str, int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ScriptedReply:
        """Queue one reply for the next chat-completions request (FIFO).

        ``content`` defaults to ``DEFAULT_CONTENT``, or to None when ``tool_calls`` are
        given, matching what a vendor sends for a pure tool-call answer.

        ``tool_calls`` items are ``{"name": ..., "arguments": "<json string>"}`` with an
        optional ``"id"``; generated ids are on the returned reply's ``tool_call_ids``.
        A non-200 ``status`` answers with an OpenAI error body (``error`` overrides its
        fields). ``delay`` postpones the response, ``disconnect`` closes the connection
        without answering, ``chunk_delay`` paces stream chunks. ``usage`` may pin
        ``prompt_tokens``/``completion_tokens``; otherwise both are estimated.
        ``headers`` are added to the response (for example ``retry-after``).
        """
        scripted = build_reply(
            content,
            tool_calls=tool_calls,
            finish_reason=finish_reason,
            status=status,
            error=error,
            delay=delay,
            disconnect=disconnect,
            chunk_delay=chunk_delay,
            usage=usage,
            headers=headers,
        )
        with self._lock:
            self._queue.append(scripted)
        return scripted

    def always(
        self,
        content: str | Literal[_Auto.CONTENT] | None = AUTO_CONTENT,
        *,
        tool_calls: Sequence[Mapping[str, str]] | None = None,
        finish_reason: str | None = None,
        status: int = 200,
        error: Mapping[str, Any] | None = None,
        delay: float = 0.0,
        disconnect: bool = False,
        chunk_delay: float = 0.0,
        usage: Mapping[str, int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ScriptedReply:
        """Set the reply used whenever the queue is empty (load tests, benchmarks).

        Takes the same arguments as ``reply``. Tool call ids are fixed once here, so
        every response built from the default repeats them.
        """
        scripted = build_reply(
            content,
            tool_calls=tool_calls,
            finish_reason=finish_reason,
            status=status,
            error=error,
            delay=delay,
            disconnect=disconnect,
            chunk_delay=chunk_delay,
            usage=usage,
            headers=headers,
        )
        with self._lock:
            self._default = scripted
        return scripted

    def clear_always(self) -> None:
        """Drop the default reply so an empty queue is unexpected again."""
        with self._lock:
            self._default = None

    # ----------------------------------------------------------------- inspection

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Snapshot of every request received, in arrival order (including rejected ones)."""
        with self._lock:
            return list(self._requests)

    @property
    def unexpected(self) -> list[str]:
        """Snapshot of descriptions of requests the fake was not scripted for."""
        with self._lock:
            return list(self._unexpected)

    @property
    def pending(self) -> list[ScriptedReply]:
        """Snapshot of queued replies not yet consumed."""
        with self._lock:
            return list(self._queue)

    def assert_clean(self) -> None:
        """Fail if anything unscripted arrived or any scripted reply went unused."""
        with self._lock:
            problems = [f"unexpected request: {entry}" for entry in self._unexpected]
            problems += [f"reply never consumed: {r.describe()}" for r in self._queue]
        if problems:
            raise AssertionError("FakeOpenAI was not used as scripted:\n  " + "\n  ".join(problems))

    # ----------------------------------------------------------------- serving

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        """Route every request; anything off-script is answered and recorded as unexpected."""
        raw = await request.read()
        parsed: Any = None
        if raw:
            try:
                parsed = _loads(raw)
            except ValueError:
                parsed = None
        if self._record:
            received = ReceivedRequest(
                method=request.method,
                path=request.path,
                query=request.query_string,
                headers={name.lower(): value for name, value in request.headers.items()},
                body=raw,
                json=parsed,
            )
            with self._lock:
                self._requests.append(received)

        path = request.path
        if path == CHAT_COMPLETIONS_PATH:
            if request.method != "POST":
                return self._unexpected_response(
                    request,
                    raw,
                    405,
                    f"method {request.method} not allowed, use POST",
                    extra_headers={"Allow": "POST"},
                )
            rejection = self._check_auth(request, raw)
            if rejection is not None:
                return rejection
            problem = _chat_body_problem(raw, parsed)
            if problem is not None:
                return self._unexpected_response(request, raw, 400, problem)
            with self._lock:
                scripted = self._queue.popleft() if self._queue else self._default
            if scripted is None:
                return self._unexpected_response(
                    request, raw, 500, "no reply queued and no default set"
                )
            return await self._serve_chat(request, parsed, scripted)

        if path == MODELS_PATH or path.startswith(MODELS_PATH + "/"):
            if request.method != "GET":
                return self._unexpected_response(
                    request,
                    raw,
                    405,
                    f"method {request.method} not allowed, use GET",
                    extra_headers={"Allow": "GET"},
                )
            rejection = self._check_auth(request, raw)
            if rejection is not None:
                return rejection
            return self._serve_models(path)

        return self._unexpected_response(
            request, raw, 404, f"Invalid URL ({request.method} {request.path})"
        )

    def _check_auth(self, request: web.Request, raw: bytes) -> web.Response | None:
        """Reject unless the bearer token is exactly the configured key, as the vendor does."""
        header = request.headers.get("Authorization")
        if header == f"Bearer {self.api_key}":
            return None
        if not header:
            reason = "You didn't provide an API key (no Authorization header)."
        elif not header.startswith("Bearer "):
            reason = "Authorization header is not a Bearer token."
        else:
            reason = f"Incorrect API key provided: {_mask(header[len('Bearer ') :])}."
        return self._unexpected_response(request, raw, 401, reason, code="invalid_api_key")

    def _unexpected_response(
        self,
        request: web.Request,
        raw: bytes,
        status: int,
        reason: str,
        *,
        code: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        """Record an off-script request and answer with a vendor-shaped error.

        ``x-should-retry: false`` stops the OpenAI SDK (and compatible clients) from
        retrying, so one mistake is reported once rather than three times.
        """
        excerpt = raw[:200].decode("utf-8", "replace")
        if len(raw) > 200:
            excerpt += "..."
        with self._lock:
            self._unexpected.append(
                f"{request.method} {request.path} -> {status}: {reason} body={excerpt!r}"
            )
        error = _error_object(
            status, f"FakeOpenAI unexpected request: {reason}", {"code": code} if code else None
        )
        headers = {"x-should-retry": "false", **(extra_headers or {})}
        return web.Response(
            status=status,
            body=_dumps({"error": error}),
            content_type="application/json",
            headers=headers,
        )

    def _serve_models(self, path: str) -> web.Response:
        """Models list or single model, from the constructor's ``models``."""

        def entry(model_id: str) -> dict[str, Any]:
            return {
                "id": model_id,
                "object": "model",
                "created": _MODEL_CREATED,
                "owned_by": "fake-vendor",
            }

        if path == MODELS_PATH:
            body: dict[str, Any] = {
                "object": "list",
                "data": [entry(model_id) for model_id in self.models],
            }
            return web.Response(body=_dumps(body), content_type="application/json")
        model_id = path[len(MODELS_PATH) + 1 :]
        if model_id in self.models:
            return web.Response(body=_dumps(entry(model_id)), content_type="application/json")
        error = _error_object(404, f"The model '{model_id}' does not exist")
        return web.Response(
            status=404, body=_dumps({"error": error}), content_type="application/json"
        )

    async def _serve_chat(
        self, request: web.Request, body: dict[str, Any], scripted: ScriptedReply
    ) -> web.StreamResponse:
        """Answer one chat-completions request from a scripted reply."""
        if scripted.delay:
            await asyncio.sleep(scripted.delay)
        if scripted.disconnect:
            transport = request.transport
            if transport is not None:
                transport.close()
            # The closed connection makes aiohttp cancel this handler
            # (handler_cancellation); waiting avoids writing a response to nobody.
            await asyncio.Event().wait()
        headers = {
            "x-request-id": _random_id("req_", 32),
            "openai-processing-ms": str(int(scripted.delay * 1000)),
            **dict(scripted.headers),
        }
        if scripted.status != 200:
            return web.Response(
                status=scripted.status,
                body=scripted.error_json,
                content_type="application/json",
                headers=headers,
            )

        completion_id = _random_id("chatcmpl-", 29)
        created = str(int(time.time())).encode()
        model = _dumps(body["model"])
        prompt_tokens = (
            scripted.prompt_tokens
            if scripted.prompt_tokens is not None
            else estimate_prompt_tokens(body)
        )
        usage = _dumps(_usage(prompt_tokens, scripted.completion_tokens))
        head = b'{"id":"%s","object":"%s","created":%s,"model":%s,' % (
            completion_id.encode(),
            b"chat.completion.chunk" if body.get("stream") is True else b"chat.completion",
            created,
            model,
        )

        if body.get("stream") is not True:
            payload = b"".join(
                (
                    head,
                    b'"choices":',
                    scripted.choices_json,
                    b',"usage":',
                    usage,
                    b',"service_tier":"default","system_fingerprint":"',
                    SYSTEM_FINGERPRINT.encode(),
                    b'"}',
                )
            )
            return web.Response(body=payload, content_type="application/json", headers=headers)

        stream_options = body.get("stream_options")
        include_usage = isinstance(stream_options, Mapping) and (
            stream_options.get("include_usage") is True
        )
        prefix = b"".join(
            (
                b"data: ",
                head,
                b'"service_tier":"default","system_fingerprint":"',
                SYSTEM_FINGERPRINT.encode(),
                b'","choices":[',
            )
        )
        suffix = b'],"usage":null}\n\n' if include_usage else b"]}\n\n"
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", **headers}
        )
        await response.prepare(request)
        try:
            for index, choice in enumerate(scripted.stream_choices):
                if index and scripted.chunk_delay:
                    await asyncio.sleep(scripted.chunk_delay)
                await response.write(prefix + choice + suffix)
            if include_usage:
                await response.write(prefix + b'],"usage":' + usage + b"}\n\n")
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except ConnectionResetError:
            # The client hung up mid-stream; that is the client's business, not an error.
            pass
        return response


def _chat_body_problem(raw: bytes, parsed: Any) -> str | None:
    """Why a chat-completions body is unacceptable, or None when it is fine."""
    if not raw:
        return "empty body, expected a JSON object"
    if not isinstance(parsed, dict):
        return "body is not a JSON object"
    model = parsed.get("model")
    if not isinstance(model, str) or not model:
        return "missing required parameter: 'model'"
    messages = parsed.get("messages")
    if not isinstance(messages, list):
        return "missing required parameter: 'messages'"
    return None


def _mask(key: str) -> str:
    """Hide most of a presented key in diagnostics, like the vendor's own message."""
    if len(key) <= 8:
        return "***"
    return f"{key[:3]}***{key[-4:]}"


def _fast_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop when installed (it is, via uvicorn[standard]); it roughly halves overhead."""
    try:
        import uvloop
    except ModuleNotFoundError:  # pragma: no cover - depends on the environment
        return asyncio.new_event_loop
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def main(argv: Sequence[str] | None = None) -> None:
    """Serve forever with a fixed short default reply, for gateway benchmarks."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.openai_upstream",
        description="Fake OpenAI chat-completions upstream for benchmarks.",
    )
    parser.add_argument("--port", type=int, default=9100, help="TCP port on 127.0.0.1")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="expected bearer token")
    parser.add_argument("--model", action="append", help="model id for /v1/models (repeatable)")
    args = parser.parse_args(argv)
    fake = FakeOpenAI(
        api_key=args.api_key,
        port=args.port,
        models=args.model or ("gpt-fake",),
        record=False,
        loop_factory=_fast_loop_factory(),
    )
    fake.always(DEFAULT_CONTENT)
    with fake:
        print(f"FakeOpenAI serving {fake.base_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
        unexpected = fake.unexpected
        if unexpected:
            print(
                f"{len(unexpected)} unexpected request(s), first: {unexpected[0]}", file=sys.stderr
            )


if __name__ == "__main__":
    main()
