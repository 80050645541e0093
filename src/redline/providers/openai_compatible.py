"""Any OpenAI-compatible endpoint (OpenAI, xAI, Azure, vLLM, Ollama) over one aiohttp session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp

from redline.errors import UpstreamError, UpstreamTimeout
from redline.providers import UpstreamReply
from redline.settings import UpstreamConfig


class OpenAICompatible:
    def __init__(
        self,
        config: UpstreamConfig,
        session: aiohttp.ClientSession,
        *,
        api_key: str | None,
        read_timeout_s: float,
    ) -> None:
        self.config = config
        self._session = session
        self._url = config.base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._read_timeout_s = read_timeout_s

    async def chat(self, body: bytes, *, stream: bool) -> UpstreamReply:
        try:
            response = await self._session.post(
                self._url,
                data=body,
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(sock_read=self._read_timeout_s),
            )
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise UpstreamTimeout(f"upstream '{self.config.name}' did not answer in time") from None
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                f"upstream '{self.config.name}' is unreachable ({type(exc).__name__})"
            ) from None
        content_type = response.headers.get("Content-Type", "application/json")
        if stream and response.status == 200:
            return UpstreamReply(200, content_type, chunks=self._relay(response))
        try:
            payload = await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise UpstreamTimeout(f"upstream '{self.config.name}' did not answer in time") from None
        except aiohttp.ClientError as exc:
            raise UpstreamError(
                f"upstream '{self.config.name}' broke off its answer ({type(exc).__name__})"
            ) from None
        finally:
            response.release()
        return UpstreamReply(response.status, content_type, body=payload)

    async def _relay(self, response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.content.iter_any():
                yield chunk
        except (TimeoutError, asyncio.CancelledError, aiohttp.ClientError):
            response.close()
            raise
        finally:
            response.release()

    async def close(self) -> None:
        """The shared session is closed by the gateway that owns it."""
