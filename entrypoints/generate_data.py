"""MLproject entry point `generate_data`: the same job as `radiodiff generate_data` (parameters in README.md).

`--layout NAME` (the MLproject parameter `layout`: radiomapseer or icassp, empty = the config's) is passed on as
the override `generator.layout=NAME`, after the other `--overrides`.
"""

import shlex
import sys

from radiodiff.cli import main


def with_layout_override(argv: list[str]) -> list[str]:
    """`argv` without `--layout NAME`, with `generator.layout=NAME` appended to `--overrides` when NAME is set."""
    rest, layout, overrides = [], "", ""
    i = 0
    while i < len(argv):
        flag = argv[i]
        if flag in ("--layout", "--overrides") and i + 1 < len(argv):
            layout, overrides = (argv[i + 1], overrides) if flag == "--layout" else (layout, argv[i + 1])
            i += 2
            continue
        rest.append(flag)
        i += 1
    if layout:
        overrides = f"{overrides} {shlex.quote('generator.layout=' + layout)}".strip()
    return [*rest, "--overrides", overrides] if overrides else rest


if __name__ == "__main__":
    sys.exit(main(["generate_data", *with_layout_override(sys.argv[1:])]))
