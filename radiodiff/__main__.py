"""`python -m radiodiff ...`: the same as the `radiodiff` console script."""

import sys

from radiodiff.cli import main

if __name__ == "__main__":
    sys.exit(main())
