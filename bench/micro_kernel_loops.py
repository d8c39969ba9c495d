#!/usr/bin/python3
"""The GEMM micro-kernels' inner loops, read from the built library: instruction mix per k step, a
check that no accumulator lives on the stack, and llvm-mca's predicted flop and MACs per cycle.

For each `micro_tile<R>` of each ISA namespace (avx2, avx512, neon; the int8 kernels as int8::avxvnni,
int8::neondot, ...) it disassembles the function, takes its loop with the most multiply-accumulate
instructions (the k loop: FMAs, or the NEON int8 kernel's sdot) and prints, per iteration:
instructions, those instructions ("MAC op"), loads, stores and stack accesses. It exits 1 if any k loop
touches the stack (an accumulator spilled, stored at every k).
With --mca it also runs llvm-mca (Debian's llvm-14) on each k loop for the CPU models given, and prints
the predicted cycles per iteration, flop per cycle and multiply-accumulates per cycle (an fp32 FMA lane is
one MAC, 2 flop; an sdot lane four int8 MACs) against the model's own peak for that instruction (llvm-mca
on a block of independent ones). ARM boards are reached this way only: qemu runs the code, not its timing.

usage: /usr/bin/python3 bench/micro_kernel_loops.py LIBRARY [--mca] [--cpus a,b,...] [--rows R]
  LIBRARY: build/kernels/libadarun_kernels.a (x86-64) or build-aarch64/kernels/libadarun_kernels.a
"""
import argparse
import re
import subprocess
import sys
import tempfile

ARCHES = {
    "x86_64": {"objdump": "objdump", "triple": "x86_64-unknown-linux-gnu", "cpus": ["znver3", "skylake-avx512"],
               "fma": re.compile(r"^vfn?madd\d+[ps]s$"), "stack": re.compile(r"%[re]sp|%[re]bp"),
               "peak_fma": "vfmadd231ps %{vec}1, %{vec}2, %{vec}{n}", "chains": {"ymm": 13, "zmm": 28},
               # int8: MACs per 32-bit lane (vpdpbusd 4 byte products, vpmaddwd 2 int16 ones); objdump writes
               # AVX-VNNI's as "{vex} vpdpbusd" (the prefix kept with the mnemonic below).
               "dot": {re.compile(r"^(\{vex\} )?vpdpbusd$"): (4, "vpdpbusd %{vec}1, %{vec}2, %{vec}{n}"),
                       re.compile(r"^vpmaddwd$"): (2, "vpmaddwd %{vec}1, %{vec}2, %{vec}{n}")}},
    "aarch64": {"objdump": "aarch64-linux-gnu-objdump", "triple": "aarch64-linux-gnu",
                "cpus": ["cortex-a55", "cortex-a76", "exynos-m5", "apple-a13"], "fma": re.compile(r"^fml[as]$"),
                "stack": re.compile(r"\bsp\b|\bx29\b"), "peak_fma": "fmla v{n}.4s, v1.4s, v2.4s", "chains": {"q": 28},
                # int8: MACs per 32-bit lane of each instruction, and one of them for the peak's block.
                "dot": {re.compile(r"^[su]dot$"): (4, "sdot v{n}.4s, v1.16b, v2.4b[0]")}},
}
# objdump's comments: "// ..." on aarch64 (where "#" starts an immediate), "# ..." on x86-64.
LINES = {"x86_64": re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*?)\s*(?:#.*)?$"),
         "aarch64": re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*?)\s*(?://.*)?$")}
FUNCTION = re.compile(r"^([0-9a-f]+) <(.*)>:$")
BRANCH_TARGET = re.compile(r"\b([0-9a-f]+) <")  # objdump writes a branch's target as "ADDRESS <symbol+offset>"


def architecture(library):
    """The host objdump names an aarch64 archive as such, and an aarch64 object file UNKNOWN."""
    header = subprocess.run(["objdump", "-f", library], capture_output=True, text=True)
    return "aarch64" if header.returncode or "aarch64" in header.stdout or "UNKNOWN" in header.stdout else "x86_64"


def micro_kernels(library, arch):
    """{name: [(address, mnemonic, operands)]} for every micro_tile<R> function."""
    text = subprocess.run([ARCHES[arch]["objdump"], "-d", "--no-show-raw-insn", "-C", library],
                          capture_output=True, text=True, check=True).stdout
    functions, current = {}, None
    for line in text.splitlines():
        header = FUNCTION.match(line)
        if header:
            name = header.group(2)
            current = functions.setdefault(short_name(name), []) if "micro_tile<" in name else None
            continue
        match = LINES[arch].match(line) if current is not None else None
        if match:
            mnemonic, operands = match.group(2), match.group(3)
            if mnemonic.startswith("{"):  # a pseudo-prefix ({vex}): part of the mnemonic
                rest = operands.split(None, 1)
                mnemonic, operands = f"{mnemonic} {rest[0]}", rest[1] if len(rest) > 1 else ""
            current.append((int(match.group(1), 16), mnemonic, operands))
    return functions


def short_name(name):
    """avx2::micro_tile<6> for a packed-panel tile, avx2::micro_tile<6>+offsets for one reading B in place."""
    isa = re.search(r"adarun::((?:int8::)?\w+)::", name)
    rows = re.search(r"micro_tile<(\d+)(, (true|false))?>", name)
    offsets = "+offsets" if rows and rows.group(3) == "true" else ""
    return f"{isa.group(1) if isa else '?'}::micro_tile<{rows.group(1) if rows else '?'}>{offsets}"


def k_loop(instructions, arch):
    """The instructions of the loop (a backward branch's range) with the most FMAs."""
    addresses = [a for a, _, _ in instructions]
    best = []
    for index, (address, mnemonic, operands) in enumerate(instructions):
        if not (mnemonic.startswith("j") or mnemonic.startswith("b")):
            continue
        target = BRANCH_TARGET.search(operands)
        start = int(target.group(1), 16) if target else address
        if start >= address or start not in addresses:
            continue
        body = instructions[addresses.index(start):index + 1]
        if sum(count(body, arch)[kind] for kind in ("fma", "dot")) > sum(count(best, arch)[kind] for kind in ("fma", "dot")):
            best = body
    return best


# x86 (AT&T): a memory operand is "(...)"; the destination comes last. Branches and lea touch no memory.
def is_load(mnemonic, operands, arch):
    if arch == "aarch64":
        return mnemonic.startswith("ld")
    return "(" in operands and not operands.rstrip().endswith(")") and not mnemonic.startswith(("lea", "j"))


def is_store(mnemonic, operands, arch):
    if arch == "aarch64":
        return mnemonic.startswith("st")
    return operands.rstrip().endswith(")") and not mnemonic.startswith(("cmp", "test", "j"))


def count(body, arch):
    spec = ARCHES[arch]
    return {"instructions": len(body),
            "fma": sum(bool(spec["fma"].match(m)) for _, m, _ in body),
            "dot": sum(any(p.match(m) for p in spec["dot"]) for _, m, _ in body),
            "loads": sum(is_load(m, o, arch) for _, m, o in body),
            "stores": sum(is_store(m, o, arch) for _, m, o in body),
            "stack": sum(bool(spec["stack"].search(o)) for _, _, o in body)}


def lanes(body, arch):
    if arch == "aarch64":
        return 4
    operands = " ".join(o for _, m, o in body if ARCHES[arch]["fma"].match(m) or any(p.match(m) for p in ARCHES[arch]["dot"]))
    return 16 if "%zmm" in operands else 8


def mca_cycles(assembly, arch, cpu, resource_bound=False):
    """llvm-mca's cycles per iteration of `assembly` on `cpu` (with resource_bound: its Block RThroughput,
    the bound of the execution resources alone), or None when it cannot say."""
    with tempfile.NamedTemporaryFile("w", suffix=".s") as f:
        f.write(assembly)
        f.flush()
        result = subprocess.run(["llvm-mca-14", f"-mtriple={ARCHES[arch]['triple']}", f"-mcpu={cpu}", "-iterations=400",
                                 f.name], capture_output=True, text=True)
    if resource_bound:
        bound = re.search(r"Block RThroughput:\s+([0-9.]+)", result.stdout)
        return float(bound.group(1)) if bound else None
    total = re.search(r"Total Cycles:\s+(\d+)", result.stdout)
    return int(total.group(1)) / 400 if total else None


def loop_assembly(body):
    """The loop body for llvm-mca: the closing branch dropped (mca repeats the block)."""
    return "\n".join(f"{m} {o}" for _, m, o in body[:-1]) + "\n"


def peak_fma_per_cycle(arch, cpu, vector, template=None):
    """FMAs (or `template`'s instruction) per cycle on as many independent accumulators as the registers allow
    (enough to hide latency)."""
    chains = ARCHES[arch]["chains"][vector]
    template = template or ARCHES[arch]["peak_fma"]
    independent = "\n".join(template.format(vec=vector, n=n) for n in range(3, 3 + chains)) + "\n"
    cycles = mca_cycles(independent, arch, cpu, resource_bound=True)
    return chains / cycles if cycles else None


def mac_kind(body, arch):
    """(MACs per 32-bit lane, peak template) of the loop's multiply-accumulates: an FMA's 1, or its int8 dot product's."""
    for pattern, kind in ARCHES[arch]["dot"].items():
        if any(pattern.match(m) for _, m, _ in body):
            return kind
    return 1, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library")
    parser.add_argument("--mca", action="store_true", help="predict cycles with llvm-mca-14")
    parser.add_argument("--cpus", help="llvm-mca CPU models (default: per architecture)")
    parser.add_argument("--rows", type=int, help="only micro_tile<ROWS>")
    args = parser.parse_args()
    arch = architecture(args.library)
    cpus = args.cpus.split(",") if args.cpus else ARCHES[arch]["cpus"]
    kernels = micro_kernels(args.library, arch)
    if not kernels:
        sys.exit(f"{args.library}: no micro_tile<R> function found")
    spilled, peaks = [], {}  # peaks: instructions per cycle by (CPU model, vector kind, instruction), measured once
    print(f"{arch} micro-kernels in {args.library}, per iteration of each k loop (MAC op: FMA or sdot;")
    print("flop = 2 MACs; an fp32 FMA lane is 1 MAC, an int8 sdot lane 4; peak: the model's, in MAC/cyc):")
    print(f"{'kernel':30} {'instr':>5} {'MACop':>5} {'loads':>5} {'stores':>6} {'stack':>5}" +
          "".join(f" {cpu + ' cyc':>16} {'flop/cyc':>8} {'MAC/cyc':>7} {'peak':>5}" for cpu in cpus if args.mca))
    for name in sorted(kernels, key=lambda n: (n.split("::")[0], n.endswith("offsets"), int(re.search(r"<(\d+)>", n).group(1)))):
        if args.rows and f"<{args.rows}>" not in name:
            continue
        body = k_loop(kernels[name], arch)
        mix = count(body, arch)
        line = f"{name:30} {mix['instructions']:5} {mix['fma'] + mix['dot']:5} {mix['loads']:5} {mix['stores']:6} {mix['stack']:5}"
        if mix["stack"]:
            spilled.append(name)
        if args.mca:
            width = lanes(body, arch)
            vector = "q" if arch == "aarch64" else "zmm" if width == 16 else "ymm"
            per_lane, template = mac_kind(body, arch)
            macs = width * per_lane * (mix["fma"] + mix["dot"])  # MACs per iteration
            for cpu in cpus:
                if (cpu, vector, template) not in peaks:
                    peaks[(cpu, vector, template)] = peak_fma_per_cycle(arch, cpu, vector, template)
                cycles = mca_cycles(loop_assembly(body), arch, cpu) if body else None
                peak = peaks[(cpu, vector, template)]
                line += (f" {cycles:16.2f} {2 * macs / cycles:8.1f} {macs / cycles:7.1f} {width * per_lane * peak:5.0f}"
                         if cycles and peak else f" {'n/a':>16} {'':>8} {'':>7} {'':>5}")
        print(line)
    if spilled:
        sys.exit(f"k loops that touch the stack (spilled accumulators): {', '.join(spilled)}")
    print("no k loop touches the stack")


if __name__ == "__main__":
    main()
