"""Research checkpoint -> adarun weight file (weights/FORMAT.md)."""


class ConversionError(Exception):
    """A checkpoint that cannot be converted; the message says why and names the key."""
