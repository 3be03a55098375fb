"""Reusable widgets: badges, drop targets, sparklines, the upload list."""
