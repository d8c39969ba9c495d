"""Procedural multi-task training and evaluation scenes (see generator.py)."""
from .generator import CLASSES, MAX_OBJECTS, Scene, make_scene
