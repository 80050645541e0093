"""Pytest fixture for the fake OpenAI upstream.

Import ``fake_openai`` into a conftest (``from tests.fakes.fixtures import fake_openai``)
so every test that uses it gets a fresh server and an automatic ``assert_clean`` check:
a gateway that sends an unscripted request, or never sends a scripted one, fails.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.openai_upstream import DEFAULT_API_KEY, FakeOpenAI

__all__ = ["UPSTREAM_API_KEY", "fake_openai"]

#: The bearer token the fake expects; give it to whatever calls the fake.
UPSTREAM_API_KEY = DEFAULT_API_KEY


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A started FakeOpenAI that must end the test with nothing unexpected or left over."""
    with FakeOpenAI(api_key=UPSTREAM_API_KEY) as fake:
        yield fake
        fake.assert_clean()
