"""Settings: declared once, validated once, from flags, ``REDLINE_*`` variables and a YAML file.

Precedence, highest first: command-line flags, environment variables, the YAML config file
(``--config``, ``REDLINE_CONFIG``, or ``<data_dir>/redline.yaml``), then the defaults below.
Nothing else in Redline reads the environment.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from redline.errors import ConfigurationError
from redline.parse import Bounds


class UpstreamConfig(BaseModel):
    """One model vendor endpoint and the model names routed to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: Literal["openai", "echo"] = "openai"
    base_url: str = ""
    api_key_env: str | None = None
    models: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _url_fits_kind(self) -> UpstreamConfig:
        if self.kind != "echo":
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(
                    f"upstream '{self.name}': base_url must be an http(s) URL such as "
                    "https://api.openai.com/v1"
                )
        return self

    @property
    def host(self) -> str | None:
        return urlsplit(self.base_url).hostname if self.base_url else None

    def serves(self, model: str) -> bool:
        return any(fnmatch.fnmatchcase(model, pattern) for pattern in self.models)


class JudgeConfig(BaseModel):
    """An OpenAI-compatible model the classifier consults on borderline texts only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str
    model: str
    api_key_env: str | None = None
    band: tuple[float, float] = (0.3, 0.7)
    timeout_ms: float = Field(default=3000.0, gt=0)

    @model_validator(mode="after")
    def _valid(self) -> JudgeConfig:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "judge.base_url must be an http(s) URL such as http://127.0.0.1:8000/v1"
            )
        low, high = self.band
        if not 0.0 <= low < high <= 1.0:
            raise ValueError("judge.band must be two probabilities, low < high")
        return self

    @property
    def host(self) -> str | None:
        return urlsplit(self.base_url).hostname


DEFAULT_UPSTREAMS = (UpstreamConfig(name="local-echo", kind="echo", models=("redline-echo",)),)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REDLINE_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data_dir: Path = Path("redline-data")
    database: Path | None = Field(
        default=None, description="SQLite file; defaults to <data_dir>/redline.db"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64, description="gateway processes sharing the port")
    policy: str = Field(default="agreement", description="a shipped pack name or a YAML file")
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_depth: int = Field(default=64, ge=4, le=1000)
    max_messages: int = Field(default=1000, ge=1)
    detectors: tuple[str, ...] = Field(
        default=("rules", "classifier"), description="detectors to run, by entry-point name"
    )
    detector_budget_ms: float = Field(default=250.0, gt=0)
    upstream_connect_timeout_s: float = Field(default=5.0, gt=0)
    upstream_read_timeout_s: float = Field(default=120.0, gt=0)
    store_bodies: bool = Field(
        default=True, description="keep request and response bodies in the content store"
    )
    ledger_origin: str = Field(
        default="redline.local/ledger",
        pattern=r"^[A-Za-z0-9._/-]+$",
        description="the log's name in its signed checkpoints (and its key's name)",
    )
    checkpoint_every_entries: int = Field(default=1000, ge=1)
    checkpoint_every_seconds: float = Field(default=10.0, gt=0)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    upstreams: tuple[UpstreamConfig, ...] = DEFAULT_UPSTREAMS
    judge: JudgeConfig | None = Field(
        default=None, description="optional judge model for the classifier's borderline band"
    )

    @model_validator(mode="after")
    def _judge_fits_budget(self) -> Settings:
        if self.judge is not None and self.judge.timeout_ms >= self.detector_budget_ms:
            raise ValueError(
                f"judge.timeout_ms ({self.judge.timeout_ms:g}) must be below detector_budget_ms "
                f"({self.detector_budget_ms:g}): raise detector_budget_ms or lower the timeout"
            )
        return self

    @property
    def database_path(self) -> Path:
        return self.database or self.data_dir / "redline.db"

    @property
    def ledger_key_path(self) -> Path:
        return self.data_dir / "keys" / "ledger.key"

    @property
    def authorisation_keys_path(self) -> Path:
        return self.data_dir / "keys" / "authorisation"

    @property
    def bounds(self) -> Bounds:
        return Bounds(
            max_body_bytes=self.max_body_bytes,
            max_depth=self.max_depth,
            max_messages=self.max_messages,
        )

    def upstream_api_key(self, upstream: UpstreamConfig | JudgeConfig) -> str | None:
        """The API key an upstream or the judge uses, read from the variable its config names."""
        if upstream.api_key_env is None:
            return None
        value = os.environ.get(upstream.api_key_env)
        if not value:
            where = (
                f"upstreams.{upstream.name}" if isinstance(upstream, UpstreamConfig) else "judge"
            )
            raise ConfigurationError(
                f"{where}.api_key_env names ${upstream.api_key_env}, which is "
                "not set; export it or remove api_key_env"
            )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from flags (``overrides``), the environment and the YAML config file."""
    overrides = {key: value for key, value in overrides.items() if value is not None}
    config = config or _env_path("REDLINE_CONFIG")
    if config is None:
        data_dir = Path(
            overrides.get("data_dir") or _env_path("REDLINE_DATA_DIR") or "redline-data"
        )
        candidate = data_dir / "redline.yaml"
        config = candidate if candidate.is_file() else None
    file_values: dict[str, Any] = {}
    if config is not None:
        try:
            loaded = yaml.safe_load(config.read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"config file {config}: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigurationError(f"config file {config}: must be a YAML mapping")
        file_values = loaded
    env_keys = {
        name.removeprefix("REDLINE_").split("__")[0].lower()
        for name in os.environ
        if name.startswith("REDLINE_") and name not in ("REDLINE_CONFIG", HANDOFF_VARIABLE)
    }
    # The file sits below the environment: drop file keys the environment sets.
    values = {k: v for k, v in file_values.items() if k not in env_keys} | overrides
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigurationError(_explain(exc, config)) from None


HANDOFF_VARIABLE = "REDLINE_SERVE_SETTINGS"


def hand_off(settings: Settings) -> dict[str, str]:
    """Environment that carries validated settings to worker processes started by ``serve``."""
    return {HANDOFF_VARIABLE: settings.model_dump_json()}


def handed_off() -> Settings:
    """The settings a worker process was started with (see ``hand_off``)."""
    return Settings.model_validate_json(os.environ[HANDOFF_VARIABLE])


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _explain(exc: ValidationError, config: Path | None) -> str:
    where = f" (config file {config})" if config else ""
    lines = [f"invalid settings{where}:"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown setting; see docs/configuration.md for the list"
        lines.append(
            f"  - {key}: {message} (environment: REDLINE_{key.upper().replace('.', '__')})"
        )
    return "\n".join(lines)
