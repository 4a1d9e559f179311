"""The last whole checkpoint in a folder after a crash, put back in place.

A save writes `<name>.writing`, then renames `<name>` to `<name>.old` and `<name>.writing` to `<name>`, then removes
`<name>.old` (checkpoint.py). A SIGKILL can stop it anywhere, leaving:
- a half-written `<name>.writing` (no manifest yet, or not every file): never used;
- a whole `<name>.writing` beside the previous `<name>` (killed after the manifest, before the swap);
- `<name>.old` and a whole `<name>.writing` but no `<name>` (killed between the two renames);
- `<name>` and `<name>.old` (killed before the old copy was removed).
`recover_checkpoint` keeps the newest copy that verifies and installs it as `<name>`, as the save would have.
Only one process per machine may call it (it renames folders).
"""

from __future__ import annotations

from pathlib import Path

from radiodiff.training.checkpoint import install_checkpoint, retired_folder, staging_folder, verify_checkpoint
from radiodiff.training.checkpoint_manifest import CheckpointCorrupt


def recover_checkpoint(folder: Path) -> tuple[Path | None, CheckpointCorrupt | None]:
    """The newest whole checkpoint among `folder`, `folder.writing` and `folder.old`, installed as `folder`.

    Returns:
        (`folder` when some copy is whole, else None; why `folder` itself was refused, None when it was not).
        A missing `folder` or an unfinished `folder.writing` is no damage: a crash leaves them.
    """
    folder = Path(folder)
    refused: CheckpointCorrupt | None = None
    whole: list[tuple[int, int, Path]] = []  # (step, preference, copy): newest first, then `folder` first
    for preference, copy in enumerate((folder, staging_folder(folder), retired_folder(folder))):
        if not copy.is_dir():
            continue
        try:
            state = verify_checkpoint(copy, require_manifest=copy != folder)  # only `folder` may predate manifests
        except FileNotFoundError as err:  # damaged, or no state.json (beside `folder`: a save killed early)
            if copy == folder:
                refused = err if isinstance(err, CheckpointCorrupt) else CheckpointCorrupt(str(err))
            continue
        whole.append((state.step, -preference, copy))
    if not whole:
        return None, refused
    newest = max(whole)[2]
    if newest != folder:
        install_checkpoint(newest, folder)
    return folder, refused
