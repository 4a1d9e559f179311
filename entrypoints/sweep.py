"""MLproject entry point `sweep`: the same job as `radiodiff sweep` (parameters in README.md)."""

import sys

from radiodiff.cli import main

if __name__ == "__main__":
    sys.exit(main(["sweep", *sys.argv[1:]]))
