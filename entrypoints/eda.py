"""MLproject entry point `eda`: the same job as `radiodiff eda` (parameters in README.md)."""

import sys

from radiodiff.cli import main

if __name__ == "__main__":
    sys.exit(main(["eda", *sys.argv[1:]]))
