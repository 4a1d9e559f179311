"""The integrity manifest of a checkpoint folder: every file's size and SHA-256, written last.

`manifest.json` lists the other files of the folder. The writer fsyncs every file before it writes the manifest,
so a folder whose manifest verifies was written whole; a folder without one was either written before manifests
existed (its state.json says nothing of one) or never finished. The manifest checks itself: it carries the
SHA-256 of its own listing and its text must be exactly what `write_manifest` writes, so a truncation or a changed
byte anywhere in it is caught as well.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MANIFEST_FILE = "manifest.json"
FORMAT = 1
_CHUNK = 1 << 20


class CheckpointCorrupt(FileNotFoundError):
    """A checkpoint file that is missing, truncated or altered: no intact checkpoint where one was expected.

    The message is one line naming the file and what is wrong (the command line prints it without a traceback).
    """


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks (checkpoint files reach gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(folder: Path, names: Iterable[str]) -> Path:
    """Write `folder/manifest.json` listing the files `names` of the folder; returns its path."""
    folder = Path(folder)
    files = {name: {"size": (folder / name).stat().st_size, "sha256": file_sha256(folder / name)} for name in names}
    path = folder / MANIFEST_FILE
    path.write_text(_render(files))
    return path


def read_manifest(folder: Path) -> dict[str, dict[str, Any]] | None:
    """The files the manifest lists ({name: {"size", "sha256"}}), or None when the folder has no manifest.

    Raises:
        CheckpointCorrupt: the manifest is not the text radiodiff wrote (truncated, altered, not JSON).
    """
    path = Path(folder) / MANIFEST_FILE
    if not path.is_file():
        return None
    raw = path.read_bytes()
    try:
        files = json.loads(raw)["files"]
        intact = _render(files).encode() == raw
    except (ValueError, KeyError, TypeError):  # not JSON, not UTF-8, or not our layout
        intact = False
    if not intact:
        raise CheckpointCorrupt(f"{path} is corrupted or truncated: it is not the manifest radiodiff wrote")
    return files


def verify_files(folder: Path, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]] | None:
    """Check the files the manifest lists (all of them, or only `names`) against their sizes and SHA-256.

    Returns:
        The manifest's listing, or None when the folder has no manifest (nothing to check against).
    Raises:
        CheckpointCorrupt: naming the first file that is missing, truncated, too long or altered, or the manifest.
    """
    folder = Path(folder)
    files = read_manifest(folder)
    if files is None:
        return None
    for name in files if names is None else names:
        if name not in files:
            raise CheckpointCorrupt(f"{folder / MANIFEST_FILE} does not list {name}: the checkpoint is incomplete")
        _check_file(folder / name, files[name])
    return files


def _check_file(path: Path, entry: dict[str, Any]) -> None:
    if not path.is_file():
        raise CheckpointCorrupt(f"{path} is missing (the checkpoint's {MANIFEST_FILE} lists it)")
    size, expected = path.stat().st_size, entry["size"]
    if size < expected:
        raise CheckpointCorrupt(f"{path} is truncated: {size} of {expected} bytes")
    if size > expected:
        raise CheckpointCorrupt(f"{path} is too long: {size} bytes where {expected} were written")
    if file_sha256(path) != entry["sha256"]:
        raise CheckpointCorrupt(f"{path} is corrupted: its SHA-256 differs from the one in {MANIFEST_FILE}")


def _render(files: dict[str, Any]) -> str:
    """The manifest's exact text: the listing plus the SHA-256 of the listing itself."""
    listing = json.dumps(files, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(listing.encode()).hexdigest()
    return json.dumps({"format": FORMAT, "files": files, "listing_sha256": digest}, indent=2, sort_keys=True) + "\n"
