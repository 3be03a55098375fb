"""The trash's window pieces besides its page: the status bar's Undo, deleting a project with its trash, the purge."""
