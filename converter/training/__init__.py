"""Training the bundled default model: a small four-task AdaMTL Swin on procedural scenes."""
