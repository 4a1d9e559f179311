"""MLproject entry point `generate_data`: the same job as `radiodiff generate_data` (parameters in README.md)."""

import sys

from radiodiff.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate_data", *sys.argv[1:]]))
