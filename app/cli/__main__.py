"""``python -m app.cli``: the same command line as ``yolodesk``."""

import sys

from app.cli import main

if __name__ == "__main__":  # imported (a tool walking the package), it must not open the window
    sys.exit(main())
