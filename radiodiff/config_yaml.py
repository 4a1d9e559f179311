"""YAML as configs, overrides and sweep spaces are read: PyYAML's safe loader with the YAML 1.2 core schema's
booleans and floats.

PyYAML implements YAML 1.1, which reads `no`, `off`, `yes` and `on` as booleans, so `mixed_precision=no` (a
documented value, accelerate's spelling) would arrive as False and be refused; and it reads `1e-3` (no dot) as a
string. YAML 1.2 (2009, Sec. 10.3.2 "Tag Resolution") has only `true` / `false` as booleans and any decimal with an
exponent as a float. Everything else is PyYAML's safe loading.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["ConfigLoader", "read_yaml"]

BOOL_TAG = "tag:yaml.org,2002:bool"
FLOAT_TAG = "tag:yaml.org,2002:float"


class ConfigLoader(yaml.SafeLoader):
    """yaml.SafeLoader with YAML 1.2 booleans (true / false only) and floats such as 1e-3 and 2E+5."""


ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ConfigLoader.add_implicit_resolver(BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
ConfigLoader.add_implicit_resolver(
    FLOAT_TAG, re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)


def read_yaml(text: str) -> Any:
    """The value of a YAML document (a whole file, or one override's value), None for an empty one."""
    return yaml.load(text, Loader=ConfigLoader)
