"""Canonical JSON: the fast path is byte-identical to the RFC 8785 reference encoder."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.canonical import canonical_json

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
_documents = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=600)
@given(_documents)
def test_canonical_json_equals_the_rfc8785_reference(document: Any) -> None:
    assert canonical_json(document) == rfc8785.dumps(document)


def test_control_characters_and_non_ascii_are_encoded_as_rfc8785_requires() -> None:
    document = {"b": "tab\there \u001f \u007f é 😀 \u2028", "a": [1, None, True], "é": 1}
    assert canonical_json(document) == rfc8785.dumps(document)


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    # By code point U+E000 comes first; in UTF-16, U+1F600 is 0xD83D 0xDE00 and 0xD83D < 0xE000,
    # so RFC 8785 puts the emoji first.
    document = {"\ue000": 1, "\U0001f600": 2}
    assert canonical_json(document) == rfc8785.dumps(document)
    assert canonical_json(document).index("😀".encode()) < canonical_json(document).index(
        "\ue000".encode()
    )
