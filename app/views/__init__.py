"""Windows, pages, tabs and dialogs. Thin: they show records and call the library."""
