"""Entry point for `python -m catalog`."""

import sys

from catalog.cli import main

if __name__ == "__main__":
    sys.exit(main())
