"""A scatter plot with a mean line drawn straight into pixels (no matplotlib on the target machines)."""
import numpy as np

from figures.pixel_font import draw_text

WIDTH, HEIGHT, MARGIN = 520, 340, 48
AXIS, GRID, POINT, LINE = (0, 0, 0), (225, 225, 225), (70, 110, 200), (220, 60, 40)


def _segment(canvas, p, q, colour, width=2):
    for t in np.linspace(0, 1, int(max(abs(q[0] - p[0]), abs(q[1] - p[1]))) + 2):
        x, y = int(round(p[0] + t * (q[0] - p[0]))), int(round(p[1] + t * (q[1] - p[1])))
        canvas[y - width // 2:y + width - width // 2, x - width // 2:x + width - width // 2] = colour


def scatter_with_mean(xs, ys, x_ticks, y_range=(0.0, 1.0), x_label="", y_label=""):
    """uint8 [H, W, 3]: points (xs, ys), the mean of ys at each x joined by a line, ticks labelled;
    y_label above the y axis, x_label below the x axis (capitals, digits, '%', '.')."""
    canvas = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    left, right, top, bottom = MARGIN + 16, WIDTH - MARGIN // 2, MARGIN // 2, HEIGHT - MARGIN

    def px(x, y):
        fx = (x - x_ticks[0]) / max(x_ticks[-1] - x_ticks[0], 1)
        fy = (y - y_range[0]) / (y_range[1] - y_range[0])
        return left + fx * (right - left), bottom - fy * (bottom - top)

    for k in range(5):
        value = y_range[0] + k * (y_range[1] - y_range[0]) / 4
        _, y = px(x_ticks[0], value)
        _segment(canvas, (left, y), (right, y), GRID, 1)
        draw_text(canvas, 4, int(y) - 5, f"{100 * value:.0f}%", AXIS)
    for tick in x_ticks:
        x, _ = px(tick, y_range[0])
        _segment(canvas, (x, bottom), (x, bottom + 6), AXIS, 1)
        draw_text(canvas, int(x) - 3, bottom + 12, str(tick), AXIS)
    draw_text(canvas, left + 8, 4, y_label, AXIS)
    draw_text(canvas, (left + right) // 2 - 4 * len(x_label), bottom + 28, x_label, AXIS)
    _segment(canvas, (left, top), (left, bottom), AXIS)
    _segment(canvas, (left, bottom), (right, bottom), AXIS)
    means = [px(t, float(np.mean([y for x, y in zip(xs, ys) if x == t]))) for t in x_ticks if t in xs]
    for p, q in zip(means, means[1:]):
        _segment(canvas, p, q, LINE, 3)
    for x, y in zip(xs, ys):
        cx, cy = px(x, min(max(y, y_range[0]), y_range[1]))
        canvas[int(cy) - 2:int(cy) + 3, int(cx) - 2:int(cx) + 3] = POINT
    return canvas
