"""Prediction in this process: inference sessions for a ``.pt`` or a verified export, frame sources, the live engine (Qt-free)."""
