"""The ``yolodesk`` command line, one module per area (library, jobs, exports, workers, predict).

``common`` holds what the areas share; ``entry`` builds the parser and runs a command (``app.cli:main``).
"""

from app.cli.entry import main

__all__ = ["main"]
