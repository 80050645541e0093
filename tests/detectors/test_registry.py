"""Detectors are entry points; a third-party detector plugs in exactly as the shipped one does."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.detectors import registry
from redline.errors import ConfigurationError
from redline.policy import load_pack
from redline.settings import Settings
from tests.detectors.plugins import install_third_party_detectors


def test_shipped_rules_detector_is_an_entry_point() -> None:
    assert "rules" in registry.available()


def test_third_party_detector_is_found_and_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_third_party_detectors(tmp_path, monkeypatch)

    [detector] = registry.build(["flagging"], load_pack("agreement"), Settings())

    assert detector.name == "flagging"


def test_unknown_detector_name_stops_start_with_the_installed_names() -> None:
    with pytest.raises(ConfigurationError, match=r"not installed.*rules"):
        registry.build(["nonexistent"], load_pack("agreement"), Settings())
