"""Redline: a self-hosted gateway that makes an AI usage agreement technically enforceable."""

__version__ = "0.1.0"
