"""Load a policy pack from the shipped packs or a file, validate it and compute its hash."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import pydantic
import yaml

from redline.canonical import canonical_json
from redline.policy.schema import PolicyPack


class PolicyError(Exception):
    """A pack that cannot be loaded; the message names the file, the key and the problem."""


def shipped_packs() -> list[str]:
    folder = resources.files("redline.policy") / "packs"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def load_pack(name_or_path: str | Path) -> PolicyPack:
    """Load ``name_or_path``: the name of a shipped pack (``agreement``) or a YAML file path."""
    source = str(name_or_path)
    if source in shipped_packs():
        text = (resources.files("redline.policy") / "packs" / f"{source}.yaml").read_text("utf-8")
    else:
        path = Path(source)
        if not path.is_file():
            raise PolicyError(
                f"policy '{source}' is neither a shipped pack ({', '.join(shipped_packs())}) "
                "nor a file"
            )
        text = path.read_text("utf-8")
    return parse_pack(text, source)


def parse_pack(text: str, source: str = "<string>") -> PolicyPack:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise PolicyError(f"{source}: a policy pack is a YAML mapping")
    try:
        return PolicyPack.model_validate(document)
    except pydantic.ValidationError as exc:
        raise PolicyError(f"{source}: invalid policy pack:\n{_explain(exc)}") from None


def pack_hash(pack: PolicyPack) -> str:
    """``sha256:<hex>`` of the pack's canonical JSON (RFC 8785), defaults included.

    Hashing the validated model rather than the file means formatting and comments do not change
    the identity of a pack, but every value in force does.
    """
    document = pack.model_dump(mode="json", by_alias=True)
    return "sha256:" + hashlib.sha256(canonical_json(document)).hexdigest()


def _explain(exc: pydantic.ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key; remove it or check its spelling against docs/policy.md"
        elif error["type"] == "missing":
            message = "required key is missing"
        lines.append(f"  - {where}: {message}")
    return "\n".join(lines)
