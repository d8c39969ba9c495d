"""Procedural multi-task scenes with exact labels, deterministic by seed.

A scene is a background (plain when simple; gradient, value noise, stripes and clutter strokes
as it gets busier) with 1..8 shaded objects painted back to front. Each object class has an
analytic surface, which gives both its shading and its normals:

  1 disc     a sphere
  2 square   a four-sided pyramid
  3 triangle a tilted flat plate
  4 ring     a torus

Labels: semseg (class per pixel, background 0), sal (1 on objects), edge (1 on both sides of
every boundary between visible objects or object and background; clutter is background and has
no edges), normals (unit, camera frame: x right, y up, z towards the camera; background and
clutter face the camera).
"""
from dataclasses import dataclass

import numpy as np

CLASSES = ["background", "disc", "square", "triangle", "ring"]
MAX_OBJECTS = 8
PYRAMID_SLOPE = np.radians(35.0)


@dataclass
class Scene:
    image: np.ndarray    # uint8 [S, S, 3]
    semseg: np.ndarray   # uint8 [S, S], class ids
    sal: np.ndarray      # uint8 [S, S], 0/1
    edge: np.ndarray     # uint8 [S, S], 0/1
    normals: np.ndarray  # float32 [3, S, S], unit vectors
    objects: int


class _Canvas:
    def __init__(self, size):
        self.size = size
        self.y, self.x = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
        self.rgb = np.zeros((size, size, 3), np.float32)
        self.normals = np.zeros((size, size, 3), np.float32)
        self.normals[..., 2] = 1.0
        self.semseg = np.zeros((size, size), np.uint8)
        self.instance = np.zeros((size, size), np.int32)


def _smooth_noise(rng, size, cells):
    """Bilinearly interpolated random colours on a (cells+1)^2 grid, [S, S, 3] in [0, 1]."""
    grid = rng.random((3, cells + 1, cells + 1)).astype(np.float32)
    t = np.linspace(0, cells, size, endpoint=False, dtype=np.float32)
    i = t.astype(np.int64)
    weights = np.zeros((size, cells + 1), np.float32)  # bilinear interpolation is separable: W grid W^T
    weights[np.arange(size), i] = 1 - (t - i)
    weights[np.arange(size), i + 1] = t - i
    return (weights @ grid @ weights.T).transpose(1, 2, 0)


def _paint_background(rng, canvas, busyness):
    base = rng.uniform(0.15, 0.85, 3).astype(np.float32)
    canvas.rgb[:] = base
    if busyness == 0:
        return
    s = canvas.size
    angle = rng.uniform(0, 2 * np.pi)
    gradient = ((canvas.x * np.cos(angle) + canvas.y * np.sin(angle)) / s - 0.5)[..., None]
    noise = _smooth_noise(rng, s, int(rng.integers(3, 12))) - 0.5
    period = rng.uniform(6, 20)
    phase = (canvas.x * np.cos(angle + 1) + canvas.y * np.sin(angle + 1)) * (2 * np.pi / period)
    stripes = (0.5 * np.sin(phase))[..., None] * rng.uniform(0.2, 1.0, 3).astype(np.float32)
    canvas.rgb += busyness * (0.3 * gradient + 0.6 * noise + 0.25 * stripes)
    _paint_clutter(rng, canvas, int(round(busyness * 14)))


def _paint_clutter(rng, canvas, count):
    """Thin strokes and specks: texture of the background, not objects."""
    s = canvas.size
    for _ in range(count):
        colour = rng.uniform(0, 1, 3).astype(np.float32)
        if rng.random() < 0.5:
            x0, y0 = rng.uniform(0, s, 2)
            angle = rng.uniform(0, np.pi)
            length, width = rng.uniform(0.1, 0.4) * s, rng.uniform(0.8, 2.0)
            along = (canvas.x - x0) * np.cos(angle) + (canvas.y - y0) * np.sin(angle)
            across = -(canvas.x - x0) * np.sin(angle) + (canvas.y - y0) * np.cos(angle)
            mask = (np.abs(across) < width) & (np.abs(along) < length / 2)
        else:
            x0, y0 = rng.uniform(0, s, 2)
            mask = (canvas.x - x0) ** 2 + (canvas.y - y0) ** 2 < rng.uniform(1.5, 4.0) ** 2
        canvas.rgb[mask] = colour


def _sphere(u, v, r):
    d2 = (u * u + v * v) / (r * r)
    mask = d2 < 1
    return mask, np.stack([u / r, -v / r, np.sqrt(np.clip(1 - d2, 0, 1))], -1)


def _pyramid(u, v, r):
    """u, v: coordinates in the square's own (rotated) frame; facet normals in that frame."""
    h = r * 0.85
    mask = (np.abs(u) < h) & (np.abs(v) < h)
    on_u = np.abs(u) >= np.abs(v)
    s, c = np.sin(PYRAMID_SLOPE), np.cos(PYRAMID_SLOPE)
    nu = np.where(on_u, np.sign(u) * s, 0.0)
    nv = np.where(on_u, 0.0, np.sign(v) * s)
    return mask, np.stack([nu, nv, np.full_like(u, c)], -1)


def _plate(u, v, r, tilt):
    """An equilateral triangle of circumradius r; a flat plate tilted by `tilt` (x, y)."""
    inside = np.ones(u.shape, bool)
    for k in range(3):
        angle = np.pi / 2 + k * 2 * np.pi / 3
        inside &= u * np.cos(angle) + v * np.sin(angle) > -r / 2
    normal = np.array([tilt[0], tilt[1], 1.0], np.float32)
    return inside, np.broadcast_to(normal / np.linalg.norm(normal), u.shape + (3,))


def _torus(u, v, r):
    rho = np.sqrt(u * u + v * v) + 1e-6
    inner = r * 0.45
    centre, tube = (r + inner) / 2, (r - inner) / 2
    d = (rho - centre) / tube
    mask = np.abs(d) < 1
    return mask, np.stack([d * u / rho, -d * v / rho, np.sqrt(np.clip(1 - d * d, 0, 1))], -1)


def _object_surface(rng, cls, u, v, r, angle):
    """Mask and camera-frame normals of one object; u, v are image offsets (y down) from its centre."""
    if cls == 1:
        return _sphere(u, v, r)
    if cls == 4:
        return _torus(u, v, r)
    c, s = np.cos(angle), np.sin(angle)
    ru, rv = c * u + s * v, -s * u + c * v
    if cls == 3:
        return _plate(ru, rv, r, rng.uniform(-0.6, 0.6, 2))
    mask, local = _pyramid(ru, rv, r)
    # Local (u, v) -> image (x, y down), then y down -> y up.
    nx = c * local[..., 0] - s * local[..., 1]
    ny_down = s * local[..., 0] + c * local[..., 1]
    return mask, np.stack([nx, -ny_down, local[..., 2]], -1)


def _paint_object(rng, canvas, instance, busyness, light):
    s = canvas.size
    cls = int(rng.integers(1, len(CLASSES)))
    r = rng.uniform(0.07, 0.18) * s * (1 - 0.3 * busyness)
    cx, cy = rng.uniform(r, s - r, 2)
    box = (slice(max(int(cy - r) - 1, 0), int(cy + r) + 2), slice(max(int(cx - r) - 1, 0), int(cx + r) + 2))
    x, y = canvas.x[box], canvas.y[box]
    mask, normals = _object_surface(rng, cls, x - cx, y - cy, r, rng.uniform(0, 2 * np.pi))
    albedo = np.broadcast_to(rng.uniform(0.2, 1.0, 3).astype(np.float32), x.shape + (3,))
    if rng.random() < busyness:  # busy scenes also have patterned objects
        period = rng.uniform(5, 15)
        albedo = albedo * (0.8 + 0.2 * np.sin((x + y) * 2 * np.pi / period))[..., None]
    shade = 0.35 + 0.65 * np.clip(normals @ light, 0, 1)
    canvas.rgb[box][mask] = (albedo * shade[..., None])[mask]
    canvas.normals[box][mask] = normals[mask]
    canvas.semseg[box][mask] = cls
    canvas.instance[box][mask] = instance


def _boundaries(instance):
    edge = np.zeros(instance.shape, bool)
    vertical = instance[1:] != instance[:-1]
    horizontal = instance[:, 1:] != instance[:, :-1]
    edge[1:] |= vertical
    edge[:-1] |= vertical
    edge[:, 1:] |= horizontal
    edge[:, :-1] |= horizontal
    return edge


def make_scene(seed, size=224, objects=None):
    """The scene of `seed`. objects (1..MAX_OBJECTS) fixes the busyness; by default the seed draws it."""
    rng = np.random.default_rng(seed)
    drawn = int(rng.integers(1, MAX_OBJECTS + 1))
    objects = drawn if objects is None else objects
    busyness = (objects - 1) / (MAX_OBJECTS - 1)
    canvas = _Canvas(size)
    _paint_background(rng, canvas, busyness)
    light = np.array([*rng.uniform(-0.7, 0.7, 2), 1.0], np.float32)
    light /= np.linalg.norm(light)
    for instance in range(1, objects + 1):
        _paint_object(rng, canvas, instance, busyness, light)
    image = np.clip(canvas.rgb * 255 + 0.5, 0, 255).astype(np.uint8)
    return Scene(image=image, semseg=canvas.semseg, sal=(canvas.semseg > 0).astype(np.uint8),
                 edge=_boundaries(canvas.instance).astype(np.uint8),
                 normals=np.ascontiguousarray(canvas.normals.transpose(2, 0, 1)), objects=objects)
