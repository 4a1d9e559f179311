"""The pip requirements of a logged model: the project's own pins (pyproject.toml) of what its code imports.

The served code is `radiodiff.inference` and every radiodiff module it imports, found by reading their import
statements (no import is executed). The requirement lines themselves are the project's dependencies as
pyproject.toml declares them (through the installed package's metadata, or the file in a source checkout), so
there is no second list of pins; a dependency of an imported distribution that the project also pins (timm
needs torchvision) comes along, so pip never picks an unpinned version of it.
"""

from __future__ import annotations

import ast
import re
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

__all__ = ["served_imports", "serving_requirements"]

PACKAGE = "radiodiff"
SERVED_MODULE = "radiodiff.inference"
_PACKAGE_ROOT = Path(__file__).resolve().parent


def served_imports(module: str = SERVED_MODULE) -> tuple[set[str], set[str]]:
    """The modules the served code can import: (radiodiff modules, top-level names of everything else)."""
    own, external, todo = set(), set(), [module]
    while todo:
        name = todo.pop()
        if name in own or (path := _source(name)) is None:
            continue
        own.add(name)
        for imported in _imports(path, name):
            if imported.split(".")[0] == PACKAGE:
                todo.extend(_with_parents(imported))
            else:
                external.add(imported.split(".")[0])
    return own, external - {"__future__"}


@cache
def serving_requirements() -> list[str]:
    """pip requirement lines (pyproject's) for every distribution the served code imports, and for every
    distribution the project pins among their dependencies (at any depth: timm -> torchvision)."""
    pins = {_canonical(Requirement(line).name): line for line in _project_requirements()}
    providers = metadata.packages_distributions()
    _, external = served_imports()
    todo = [_canonical(d) for name in external for d in providers.get(name, [])]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            dependencies = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in map(Requirement, dependencies):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(_canonical(requirement.name))
    return sorted(pins[name] for name in seen & set(pins))


def _project_requirements() -> list[str]:
    """The project's runtime dependencies as pyproject.toml declares them."""
    try:
        lines = metadata.requires(PACKAGE) or []
    except metadata.PackageNotFoundError:  # a source checkout that was not installed
        lines = tomllib.loads((_PACKAGE_ROOT.parent / "pyproject.toml").read_text())["project"]["dependencies"]
    return [line for line in lines if "extra ==" not in line]


def _source(module: str) -> Path | None:
    parts = module.split(".")[1:]
    package = _PACKAGE_ROOT.joinpath(*parts)
    for path in (package / "__init__.py", package.with_suffix(".py") if parts else None):
        if path is not None and path.is_file():
            return path
    return None


def _imports(path: Path, module: str) -> list[str]:
    """Absolute names of every module `path` imports at run time, at any depth of its code (lazy imports
    included, `if TYPE_CHECKING:` blocks left out)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: list[str] = []
    todo: list[ast.AST] = [ast.parse(path.read_text())]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, base]).strip(".")
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
        todo.extend(ast.iter_child_nodes(node))
    return names


def _with_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
