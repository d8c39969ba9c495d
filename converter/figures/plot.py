"""A scatter plot with a mean line drawn straight into pixels (no matplotlib on the target machines)."""
import numpy as np

# 3x5 digits, '.', '%', space and the capitals the axis labels use.
GLYPHS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001010010010",
    "8": "111101111101111", "9": "111101111001111", ".": "000000000000010", "%": "101001010100101",
    " ": "000000000000000", "A": "010101111101101", "B": "110101110101110", "C": "011100100100011",
    "E": "111100110100111", "F": "111100110100100", "J": "001001001101010", "K": "101101110101101",
    "M": "101111111101101", "O": "010101101101010", "P": "110101110100100", "R": "110101110101101",
    "I": "111010010010111", "S": "011100010001110", "T": "111010010010010",
}
WIDTH, HEIGHT, MARGIN = 520, 340, 48
AXIS, GRID, POINT, LINE = (0, 0, 0), (225, 225, 225), (70, 110, 200), (220, 60, 40)


def _text(canvas, x, y, text, scale=2):
    for k, char in enumerate(text):
        glyph = np.array([int(b) for b in GLYPHS[char]], bool).reshape(5, 3)
        block = np.kron(glyph, np.ones((scale, scale), bool))
        x0 = x + k * 4 * scale
        canvas[y:y + block.shape[0], x0:x0 + block.shape[1]][block] = AXIS


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
        _text(canvas, 4, int(y) - 5, f"{100 * value:.0f}%")
    for tick in x_ticks:
        x, _ = px(tick, y_range[0])
        _segment(canvas, (x, bottom), (x, bottom + 6), AXIS, 1)
        _text(canvas, int(x) - 3, bottom + 12, str(tick))
    _text(canvas, left + 8, 4, y_label)
    _text(canvas, (left + right) // 2 - 4 * len(x_label), bottom + 28, x_label)
    _segment(canvas, (left, top), (left, bottom), AXIS)
    _segment(canvas, (left, bottom), (right, bottom), AXIS)
    means = [px(t, float(np.mean([y for x, y in zip(xs, ys) if x == t]))) for t in x_ticks if t in xs]
    for p, q in zip(means, means[1:]):
        _segment(canvas, p, q, LINE, 3)
    for x, y in zip(xs, ys):
        cx, cy = px(x, min(max(y, y_range[0]), y_range[1]))
        canvas[int(cy) - 2:int(cy) + 3, int(cx) - 2:int(cx) + 3] = POINT
    return canvas
