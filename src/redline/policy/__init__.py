"""The agreement as code: a schema-validated, hashed YAML policy pack."""

from redline.policy.loader import PolicyError, load_pack, pack_hash
from redline.policy.schema import (
    Action,
    Category,
    Clause,
    ForceControl,
    PolicyPack,
    RedLine,
    Rule,
)

__all__ = [
    "Action",
    "Category",
    "Clause",
    "ForceControl",
    "PolicyError",
    "PolicyPack",
    "RedLine",
    "Rule",
    "load_pack",
    "pack_hash",
]
