"""README's framing picture: a 16:9 frame, what the model sees of it under each framing (stretch, crop, letterbox),
and a segmentation made at the model's size laid back onto the frame (adarun_session_output_on_frame).

    /usr/bin/python3 converter/figures/framing_figure.py [converter/figures/framing.png]

The geometry is the engine's (engine/src/framing.h): crop takes the centred min(w, h) square, letterbox the whole
frame at S x round(S * short / long) in the middle of S x S with the ImageNet mean colour around it, and outputs go
back through the same rectangles, bilinearly with align_corners=False, clamped to the view (the cropped-off sides
repeat the edge). The scene is drawn analytically, so no resize code is involved in the top two rows.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from figures.pixel_font import draw_centred_text  # noqa: E402
from figures.png import write_png  # noqa: E402

FRAME_W, FRAME_H = 320, 180  # 16:9
S = 144                      # the model's side, as drawn
MEAN = np.array([0.485, 0.456, 0.406]) * 255
INK = (40, 40, 40)


def scene(x, y):
    """RGB of the frame at continuous frame coordinates (arrays): sky over ground, a red disc, a yellow square."""
    t = np.clip(y / FRAME_H, 0, 1)[..., None]
    rgb = np.where(t < 0.62, (1 - t) * np.array([150, 190, 235]) + t * np.array([200, 220, 240]),
                   (1 - t) * np.array([120, 170, 90]) + t * np.array([80, 130, 60]))
    disc = (x - 105) ** 2 + (y - 92) ** 2 < 44 ** 2
    square = (np.abs(x - 232) < 26) & (np.abs(y - 100) < 26)
    rgb = np.where(disc[..., None], np.array([215, 50, 45]), rgb)
    rgb = np.where(square[..., None], np.array([245, 200, 40]), rgb)
    return rgb, disc | square


def geometry(framing):
    """(view x, y, w, h) in frame pixels and (model x, y, w, h) in model pixels, as engine/src/framing.cpp."""
    view, model = (0, 0, FRAME_W, FRAME_H), (0, 0, S, S)
    if framing == "crop":
        side = min(FRAME_W, FRAME_H)
        view = ((FRAME_W - side) // 2, (FRAME_H - side) // 2, side, side)
    elif framing == "letterbox":
        short = max(1, min(S, (2 * min(FRAME_W, FRAME_H) * S + max(FRAME_W, FRAME_H)) // (2 * max(FRAME_W, FRAME_H))))
        mw, mh = (S, short) if FRAME_W >= FRAME_H else (short, S)
        model = ((S - mw) // 2, (S - mh) // 2, mw, mh)
    return view, model


def supersampled(xs, ys):
    """The scene averaged over 3 x 3 samples per pixel; xs, ys map pixel-centre offsets (arrays) to frame coordinates."""
    total, mask = 0.0, 0.0
    for dy in (-1 / 3, 0, 1 / 3):
        for dx in (-1 / 3, 0, 1 / 3):
            rgb, inside = scene(*np.broadcast_arrays(xs(dx), ys(dy)))
            total, mask = total + rgb, mask + inside
    return total / 9, mask / 9


def frame_picture():
    x, y = np.meshgrid(np.arange(FRAME_W) + 0.5, np.arange(FRAME_H) + 0.5)
    return supersampled(lambda d: x + d, lambda d: y + d)[0]


def model_picture(framing):
    """What the model sees (S x S) and which of its pixels are on an object."""
    (vx, vy, vw, vh), (mx, my, mw, mh) = geometry(framing)
    u, v = np.meshgrid(np.arange(S) + 0.5, np.arange(S) + 0.5)
    rgb, mask = supersampled(lambda d: vx + (u + d - mx) * vw / mw, lambda d: vy + (v + d - my) * vh / mh)
    outside = (u < mx) | (u >= mx + mw) | (v < my) | (v >= my + mh)
    rgb[outside] = MEAN
    mask[outside] = 0
    return rgb, mask


def taps(out, frame, view_start, view_size, model_start, model_size):
    centre = (np.arange(out) + 0.5) * frame / out
    source = np.clip((centre - view_start) * model_size / view_size - 0.5, 0, model_size - 1)
    i0 = np.floor(source).astype(int)
    return model_start + i0, model_start + np.minimum(i0 + 1, model_size - 1), source - i0


def on_frame(maps, framing, width, height):
    """A [S, S] map laid onto a width x height picture of the frame (engine/src/framing.cpp maps_on_frame)."""
    (vx, vy, vw, vh), (mx, my, mw, mh) = geometry(framing)
    x0, x1, wx = taps(width, FRAME_W, vx, vw, mx, mw)
    y0, y1, wy = taps(height, FRAME_H, vy, vh, my, mh)
    top = maps[y0][:, x0] * (1 - wx) + maps[y0][:, x1] * wx
    bottom = maps[y1][:, x0] * (1 - wx) + maps[y1][:, x1] * wx
    return top * (1 - wy)[:, None] + bottom * wy[:, None]


def rectangle(canvas, x, y, w, h, colour, dashed=False):
    for i in range(w):
        if not dashed or (i // 5) % 2 == 0:
            canvas[y, x + i] = canvas[y + h - 1, x + i] = colour
    for j in range(h):
        if not dashed or (j // 5) % 2 == 0:
            canvas[y + j, x] = canvas[y + j, x + w - 1] = colour


def main(path):
    framings = ["stretch", "crop", "letterbox"]
    names = {"stretch": "STRETCH", "crop": "CROP", "letterbox": "LETTERBOX"}
    gap, pad = 24, 16
    small_w, small_h = 160, 90
    width = 3 * small_w + 2 * gap + 2 * pad
    height = pad + 14 + FRAME_H + 30 + 14 + S + 30 + 14 + small_h + pad
    canvas = np.full((height, width, 3), 255, np.uint8)

    # Row 1: the frame, the crop's square dashed.
    y = pad
    draw_centred_text(canvas, width // 2, y, "CAMERA FRAME 16:9", INK)
    y += 14
    fx = (width - FRAME_W) // 2
    canvas[y:y + FRAME_H, fx:fx + FRAME_W] = np.round(frame_picture()).astype(np.uint8)
    (vx, vy, vw, vh), _ = geometry("crop")
    rectangle(canvas, fx + vx, y + vy, vw, vh, (255, 255, 255), dashed=True)
    draw_centred_text(canvas, width // 2, y + FRAME_H + 5, "DASHED: WHAT CROP KEEPS", INK)
    y += FRAME_H + 30

    # Row 2: the model's S x S input under each framing.
    draw_centred_text(canvas, width // 2, y, "WHAT THE MODEL SEES: S X S", INK)
    y += 14
    masks = {}
    for k, framing in enumerate(framings):
        x = pad + k * (small_w + gap) + (small_w - S) // 2
        rgb, masks[framing] = model_picture(framing)
        canvas[y:y + S, x:x + S] = np.round(rgb).astype(np.uint8)
        rectangle(canvas, x - 1, y - 1, S + 2, S + 2, INK)
        draw_centred_text(canvas, x + S // 2, y + S + 5, names[framing], INK)
    y += S + 30

    # Row 3: a segmentation at the model's size (its object pixels) laid back onto the frame.
    draw_centred_text(canvas, width // 2, y, "OUTPUT LAID BACK ON THE FRAME", INK)
    y += 14
    x_frame, y_frame = np.meshgrid(np.arange(small_w) + 0.5, np.arange(small_h) + 0.5)
    grey = frame_picture()[::2, ::2].mean(axis=2, keepdims=True) * 0.5 + 110
    for k, framing in enumerate(framings):
        x = pad + k * (small_w + gap)
        mask = on_frame(masks[framing], framing, small_w, small_h)[..., None]
        picture = grey * (1 - mask) + np.array([230, 60, 200]) * mask
        (vx, vy, vw, vh), _ = geometry(framing)
        unseen = ((x_frame * 2 < vx) | (x_frame * 2 >= vx + vw))[..., None]
        picture = np.where(unseen, picture * 0.55, picture)  # what the crop cut off: the edge repeated, shaded here
        canvas[y:y + small_h, x:x + small_w] = np.round(picture).astype(np.uint8)
        rectangle(canvas, x - 1, y - 1, small_w + 2, small_h + 2, INK)
    write_png(path, canvas)
    print(f"wrote {path}: {width} x {height}, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "framing.png"))
