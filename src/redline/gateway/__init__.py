"""The HTTP gateway: OpenAI-compatible endpoints, the decision API and operations endpoints."""

from redline.gateway.app import Gateway, create_app

__all__ = ["Gateway", "create_app"]
