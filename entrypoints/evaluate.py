"""MLproject entry point `evaluate`: the same job as `radiodiff evaluate` (parameters in README.md)."""

import sys

from radiodiff.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
