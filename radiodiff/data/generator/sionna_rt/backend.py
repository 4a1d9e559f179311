"""Importing Sionna RT on the CPU: the `rt` extra and an LLVM library that Dr.Jit can drive.

Dr.Jit's LLVM backend loads `libLLVM` at run time and needs LLVM 17 or newer (older ones crash it); the path it
uses is `DRJIT_LIBLLVM_PATH`, which must be set before mitsuba is imported. `load_sionna` finds the newest library
on the machine (or keeps the user's setting), selects the CPU variant and returns the modules; a missing piece is a
`MissingComponent` whose one line names it and the command that installs it.
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from radiodiff.errors import MissingComponent

__all__ = ["MIN_LLVM", "VARIANT", "SionnaModules", "check_sionna", "find_libllvm", "load_sionna", "sionna_rt_folder"]

MIN_LLVM = 17
"""Oldest LLVM major version that Dr.Jit 1.x runs on."""
VARIANT = "llvm_ad_mono_polarized"
"""The Mitsuba variant Sionna RT needs, on the CPU (LLVM) backend."""
LLVM_SEARCH = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib", "/usr/lib64")
"""Folders searched for libLLVM when DRJIT_LIBLLVM_PATH is not set."""
INSTALL_EXTRA = "pip install 'radiodiff[rt]'"
INSTALL_LLVM = "Debian/Ubuntu: apt-get install libllvm19"


@dataclass(frozen=True)
class SionnaModules:
    """The imported modules: `rt` is sionna.rt, `mi` mitsuba (variant set), `dr` drjit."""

    rt: ModuleType
    mi: ModuleType
    dr: ModuleType


def find_libllvm(folders: tuple[str, ...] | None = None) -> tuple[str | None, list[str]]:
    """The newest libLLVM of version >= MIN_LLVM in `folders` (default LLVM_SEARCH), and every version found.

    Returns:
        (path or None, ["14", "15", ...] the major versions seen).
    """
    found: dict[int, str] = {}
    for folder in LLVM_SEARCH if folders is None else folders:
        for path in glob.glob(os.path.join(folder, "libLLVM*.so*")):
            match = re.search(r"libLLVM[-.]?(?:so\.)?(\d+)", os.path.basename(path))
            if match:
                found.setdefault(int(match.group(1)), path)
    usable = [version for version in found if version >= MIN_LLVM]
    return (found[max(usable)] if usable else None), [str(v) for v in sorted(found)]


def sionna_rt_folder() -> Path:
    """The installed sionna/rt package folder, found without importing it (its scenes lie in `scenes/`).

    Raises:
        MissingComponent: the rt extra is not installed.
    """
    spec = importlib.util.find_spec("sionna")
    if spec is None or not spec.submodule_search_locations or importlib.util.find_spec("mitsuba") is None:
        raise MissingComponent(f"engine=sionna needs the rt extra (sionna-rt), not installed: {INSTALL_EXTRA}")
    return Path(next(iter(spec.submodule_search_locations))) / "rt"


def check_sionna() -> None:
    """Check, without importing anything, that the rt extra and an LLVM >= 17 library are there; sets
    DRJIT_LIBLLVM_PATH for this process and the processes it starts.

    Raises:
        MissingComponent: the rt extra is not installed, or no LLVM >= 17 library was found.
    """
    sionna_rt_folder()
    if not os.environ.get("DRJIT_LIBLLVM_PATH"):
        path, seen = find_libllvm()
        if path is None:
            versions = ", ".join(seen) if seen else "none"
            raise MissingComponent(
                f"engine=sionna needs LLVM {MIN_LLVM}+ for Dr.Jit's CPU backend (found: {versions}): {INSTALL_LLVM}, "
                "or set DRJIT_LIBLLVM_PATH to a libLLVM.so"
            )
        os.environ["DRJIT_LIBLLVM_PATH"] = path
    elif not os.path.exists(os.environ["DRJIT_LIBLLVM_PATH"]):
        raise MissingComponent(f"DRJIT_LIBLLVM_PATH={os.environ['DRJIT_LIBLLVM_PATH']} does not exist: {INSTALL_LLVM}")


@functools.cache
def load_sionna() -> SionnaModules:
    """Import sionna.rt on the CPU variant, once per process. Dr.Jit's threads do not survive a fork: a process
    that forks later (a DataLoader's workers) must not call this; the writer traces in a spawned process.

    Raises:
        MissingComponent: as `check_sionna`, or the Mitsuba variant cannot be selected.
    """
    check_sionna()
    import drjit as dr
    import mitsuba as mi

    try:
        mi.set_variant(VARIANT)
    except (ImportError, AttributeError, RuntimeError) as err:
        raise MissingComponent(f"Mitsuba variant {VARIANT} is unavailable ({err}): {INSTALL_LLVM}") from None
    import sionna.rt as rt

    return SionnaModules(rt=rt, mi=mi, dr=dr)
