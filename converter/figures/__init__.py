"""Pictures without PIL or matplotlib: PNG writing, a pixel font and a simple plot."""
