"""Pictures without PIL or matplotlib: PNG writing and a simple plot."""
