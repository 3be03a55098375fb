"""The Validation view: heat map, curves, per-class table, export (the model page's Validation tab shows it)."""
