"""Providers: upstream adapters behind one interface, and the model-name router.

A provider takes the client's request body as bytes (unknown fields and all) and returns the
vendor's reply; it never interprets policy. The router picks the provider by model name from the
configured upstreams; the same terms apply whichever one it picks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from redline.errors import UnknownModel
from redline.settings import UpstreamConfig


@dataclass
class UpstreamReply:
    status: int
    content_type: str
    body: bytes | None = None
    chunks: AsyncIterator[bytes] | None = None


class Provider(Protocol):
    config: UpstreamConfig

    async def chat(self, body: bytes, *, stream: bool) -> UpstreamReply: ...

    async def close(self) -> None: ...


class Router:
    def __init__(self, providers: Sequence[Provider]) -> None:
        self._providers = tuple(providers)

    def route(self, model: str) -> Provider:
        for provider in self._providers:
            if provider.config.serves(model):
                return provider
        raise UnknownModel(
            f"model '{model}' is not served by any configured upstream", param="model"
        )

    def listed_models(self) -> list[tuple[str, str]]:
        """(model, upstream) for every model named exactly (not by pattern) in the config."""
        return [
            (model, provider.config.name)
            for provider in self._providers
            for model in provider.config.models
            if not any(ch in model for ch in "*?[")
        ]

    async def close(self) -> None:
        for provider in self._providers:
            await provider.close()
