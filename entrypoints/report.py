"""MLproject entry point `report`: the same job as `radiodiff report` (parameters in README.md)."""

import sys

from radiodiff.cli import main

if __name__ == "__main__":
    sys.exit(main(["report", *sys.argv[1:]]))
