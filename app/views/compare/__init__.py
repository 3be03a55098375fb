"""The Compare page's parts: what it reads, its tables and charts, and the project table's Compare action."""
