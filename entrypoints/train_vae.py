"""MLproject entry point `train_vae`: the same job as `radiodiff train_vae` (parameters in README.md)."""

import sys

from radiodiff.cli import main

if __name__ == "__main__":
    sys.exit(main(["train_vae", *sys.argv[1:]]))
