"""A 3 x 5 pixel font drawn straight into uint8 RGB canvases: the figures' labels (capitals, digits, '.', '%', ':',
'-' and space)."""
import numpy as np

GLYPHS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001010010010",
    "8": "111101111101111", "9": "111101111001111", ".": "000000000000010", "%": "101001010100101",
    " ": "000000000000000", ":": "000010000010000", "-": "000000111000000",
    "A": "010101111101101", "B": "110101110101110", "C": "011100100100011", "D": "110101101101110",
    "E": "111100110100111", "F": "111100110100100", "G": "011100101101011", "H": "101101111101101",
    "I": "111010010010111", "J": "001001001101010", "K": "101101110101101", "L": "100100100100111",
    "M": "101111111101101", "N": "101111111111101", "O": "010101101101010", "P": "110101110100100",
    "R": "110101110101101", "S": "011100010001110", "T": "111010010010010", "U": "101101101101111",
    "V": "101101101101010", "W": "101101111111101", "X": "101101010101101", "Y": "101101010010010",
}


def text_width(words, scale=2):
    """Pixels from the first glyph's left column to the last one's right column."""
    return 4 * scale * len(words) - scale


def draw_text(canvas, x, y, words, colour, scale=2):
    """Draws words with their top-left corner at (x, y), each glyph 3 x 5 cells of scale pixels, one cell apart."""
    for k, char in enumerate(words):
        glyph = np.array([int(b) for b in GLYPHS[char]], bool).reshape(5, 3)
        block = np.kron(glyph, np.ones((scale, scale), bool))
        x0 = x + k * 4 * scale
        canvas[y:y + block.shape[0], x0:x0 + block.shape[1]][block] = colour


def draw_centred_text(canvas, cx, y, words, colour, scale=2):
    draw_text(canvas, cx - text_width(words, scale) // 2, y, words, colour, scale)
