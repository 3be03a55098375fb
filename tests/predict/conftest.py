"""The predict tests' pictures, videos and HTTP server live in tests/helpers.py (shared with the views tests)."""

from __future__ import annotations

# Transitional: tests/predict/test_sources_url.py (written in parallel) imports it from here; tests.helpers is its home.
from tests.helpers import picture  # noqa: F401
