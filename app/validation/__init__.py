"""Validation: the val job kind, its captures in the library, re-thresholding and comparing models (no Qt)."""
