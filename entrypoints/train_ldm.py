"""MLproject entry point `train_ldm`: the same job as `radiodiff train_ldm` (parameters in README.md)."""

import sys

from radiodiff.cli import main

if __name__ == "__main__":
    sys.exit(main(["train_ldm", *sys.argv[1:]]))
