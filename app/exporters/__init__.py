"""The export format registry. Lands with the export issue."""
