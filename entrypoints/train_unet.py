"""MLproject entry point `train_unet`: the same job as `radiodiff train_unet` (parameters in README.md)."""

import sys

from radiodiff.cli import main

if __name__ == "__main__":
    sys.exit(main(["train_unet", *sys.argv[1:]]))
