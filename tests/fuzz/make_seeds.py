"""Writes the fuzzers' seed corpora (committed under tests/fuzz/corpus): small valid and near-valid inputs.

Standard library only: python3 tests/fuzz/make_seeds.py
"""
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

TINY_CONFIG = {
    "family": "adamtl", "img_size": 32, "in_chans": 3, "patch_size": 4, "embed_dim": 8,
    "depths": [1, 1, 1, 1], "num_heads": [1, 1, 1, 1], "window_size": 2, "mlp_hidden": [16, 32, 64, 128],
    "ape": False, "patch_norm": True, "ada_blocks": True, "ada_tokens": True, "policy_mode": "single",
    "block_ctrl_dim": 4, "token_ctrl_dim": 4, "decoder_dim": 8, "tasks": [{"name": "semseg", "outputs": 2}],
}


def weight_file(tensors, metadata):
    """The safetensors layout of weights/FORMAT.md: tensors as (name, shape, values[, dtype "F32", "F16" or "I8"])."""
    header, data = {"__metadata__": metadata}, b""
    for name, shape, values, *dtype in tensors:
        dtype = dtype[0] if dtype else "F32"
        begin = len(data)
        data += struct.pack("<%d%s" % (len(values), {"F16": "e", "I8": "b"}.get(dtype, "f")), *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [begin, len(data)]}
        data += b"\0" * (-len(data) % 64)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def png(width, height, channels, seed):
    """An 8-bit PNG (colour type 0 grey, 2 RGB, 6 RGBA) with a simple gradient."""
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\0" + bytes((x * 7 + y * 13 + c * seed) % 256 for x in range(width) for c in range(channels))
                    for y in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def bmp(width, height):
    """A 24-bit bottom-up BMP."""
    row = bytes((x * 5) % 256 for x in range(width * 3)) + b"\0" * (-(width * 3) % 4)
    pixels = row * height
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def write(folder, name, data):
    path = os.path.join(HERE, "corpus", folder, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    metadata = {"format": "adarun", "format_version": "1", "config": json.dumps(TINY_CONFIG), "source": "seed"}
    write("weight_file", "two_tensors.adarun",
          weight_file([("patch_embed.proj.weight", [8, 3, 4, 4], [0.5] * 384), ("patch_embed.proj.bias", [8], [0.0] * 8)],
                      metadata))
    write("weight_file", "metadata_only.adarun", weight_file([], metadata))
    # Format version 2: an F16 convolution weight beside an F32 bias.
    write("weight_file", "f16_tensors.adarun",
          weight_file([("patch_embed.weight", [8, 3, 4, 4], [0.5, -1.25, 65504.0] * 128, "F16"),
                       ("patch_embed.bias", [8], [0.0] * 8)], dict(metadata, format_version="2")))
    # Format version 3: an I8 convolution weight (127 and -127 among its values) followed by its F32 scales, one per
    # output channel (a zero scale among them: an all-zero channel), then an F32 bias.
    write("weight_file", "i8_tensors.adarun",
          weight_file([("patch_embed.weight", [8, 3, 4, 4], [127, -127, 0, 5, -3, 64] * 64, "I8"),
                       ("patch_embed.weight_scale", [8], [0.5, 0.0, 1e-3, 2.0, 0.25, 1.0, 3.0, 0.125]),
                       ("patch_embed.bias", [8], [0.0] * 8)], dict(metadata, format_version="3")))
    write("image", "rgb_5x3.png", png(5, 3, 3, 1))
    write("image", "grey_4x4.png", png(4, 4, 1, 2))
    write("image", "rgba_3x7.png", png(3, 7, 4, 3))
    write("image", "rgb_6x2.bmp", bmp(6, 2))


if __name__ == "__main__":
    main()
