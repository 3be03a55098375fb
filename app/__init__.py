"""YOLO Desk: a desktop workbench for YOLO models."""

__version__ = "0.1.0"
