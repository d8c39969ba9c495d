#!/usr/bin/python3
"""Convert an AdaMTL, Swin MTL or MTLoRA research checkpoint into an adarun weight file.

usage: /usr/bin/python3 converter/convert.py CHECKPOINT.pth -o MODEL.adarun [--config research.yaml]
       [--img-size N] [--adaptive | --no-adaptive] [--weights fp32|fp16|int8] [--int8-min-conv-outputs N]
       /usr/bin/python3 converter/convert.py MODEL.adarun -o OTHER.adarun --weights fp32|fp16|int8   (re-encode a weight file)
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from adarun_convert import ConversionError  # noqa: E402
from adarun_convert.convert import convert_file, storage_line, summary  # noqa: E402
from adarun_convert.weight_file import (INT8_MIN_CONV_OUTPUTS, WEIGHT_PRECISIONS, is_weight_file, reencoded_bytes,  # noqa: E402
                                        write_atomically)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="research checkpoint (.pth): {'model': ..., 'config': ...}, a bare state_dict, ...; "
                        "or an adarun weight file, written again with --weights")
    parser.add_argument("-o", "--output", required=True, help="weight file to write")
    parser.add_argument("--config", help="research YAML config (BASE includes resolved) to check and complete the checkpoint's")
    parser.add_argument("--img-size", type=int, help="input size, when neither the state_dict nor a config shows it")
    parser.add_argument("--weights", choices=list(WEIGHT_PRECISIONS), default="fp32",
                        help="how linear and convolution weights are stored: fp32; fp16 (IEEE half, rounded to nearest "
                             "even: half the file; the engine widens them at load); or int8 (format version 3: linear and "
                             "convolution weights symmetric per output channel int8 with F32 scales, max|W|/127, about a "
                             "quarter of their fp32 bytes; MTLoRA's LoRA factors F16). Policies, norms, biases, rel_bias "
                             "and absolute_pos_embed stay fp32 (default fp32). Re-encoding an int8 file to fp32 or fp16 "
                             "writes q * scale, not the original weights")
    parser.add_argument("--int8-min-conv-outputs", type=int, default=INT8_MIN_CONV_OUTPUTS, metavar="N",
                        help="with --weights int8, convolutions with fewer output channels stay fp32: the int8 convolution "
                             f"is slower than fp32 there (default {INT8_MIN_CONV_OUTPUTS}; 1: every convolution int8)")
    adaptive = parser.add_mutually_exclusive_group()
    adaptive.add_argument("--adaptive", dest="adaptive", action="store_true", default=None,
                          help="apply the policies (TRAIN.ADAPTIVE True); the default when no config is given")
    adaptive.add_argument("--no-adaptive", dest="adaptive", action="store_false",
                          help="ignore the policies, as the research eval path does with TRAIN.ADAPTIVE False")
    lora = parser.add_argument_group("MTLoRA (what the state_dict cannot show; flags win over the configs)")
    lora.add_argument("--lora-mode", choices=["matrix", "matrixv2"], help="MODEL.MTLORA.SHARED_MODE")
    lora.add_argument("--lora-shared-scale", type=float, nargs="+", metavar="S",
                      help="MODEL.MTLORA.SHARED_SCALE: one value for every stage, or four")
    lora.add_argument("--lora-task-scale", type=float, nargs="+", metavar="S",
                      help="per-task scale for every task (MODEL.MTLORA.SCALE_PER_TASK); default: the shared scale")
    args = parser.parse_args()
    if args.int8_min_conv_outputs < 1:
        parser.error(f"--int8-min-conv-outputs must be at least 1, got {args.int8_min_conv_outputs}")
    lora_flags = {"mode": args.lora_mode, "shared_scale": args.lora_shared_scale, "task_scale": args.lora_task_scale}
    try:
        if is_weight_file(args.checkpoint):
            write_atomically(args.output, reencoded_bytes(args.checkpoint, args.weights, args.int8_min_conv_outputs))
            print(f"wrote {args.output} ({os.path.getsize(args.output) / 1e6:.1f} MB): {args.checkpoint} with {args.weights} weights")
            return 0
        cfg, tensors, notes = convert_file(args.checkpoint, args.output, args.config, args.img_size, args.adaptive, lora_flags,
                                           args.weights, args.int8_min_conv_outputs)
    except (ConversionError, OSError) as error:
        print(f"convert: {error}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"note: {note}")
    print(summary(cfg, tensors))
    print(storage_line(tensors, args.weights, args.int8_min_conv_outputs))
    print(f"wrote {args.output} ({os.path.getsize(args.output) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
