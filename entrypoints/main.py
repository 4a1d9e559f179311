"""MLproject entry point `main`: the same job as `radiodiff main` (parameters in README.md)."""

import sys

from radiodiff.cli import main

if __name__ == "__main__":
    sys.exit(main(["main", *sys.argv[1:]]))
