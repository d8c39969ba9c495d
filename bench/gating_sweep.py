#!/usr/bin/python3
"""Does latency track compute when the policies skip work? For each budget f the policies keep the
ceil(f L) best tokens of every block and ceil(f depth) best blocks of every stage; prints the
latency fraction against the MAC fraction (both relative to f = 1, every gate on), measured in one run.
The first row is the trained gates (threshold 0, no budget) on the same frame. The settings take turns
for --rounds rounds and each reports the median of its rounds' medians, so that a slow spell of a shared
machine falls on all of them alike.

usage: /usr/bin/python3 bench/gating_sweep.py MODEL.adarun [--fractions 1,0.75,0.5,0.25] [--threads 1] [--iters 10]
       [--rounds 5]
"""
import argparse
import statistics

from adarun_bench import DEFAULT_BINARY, adarun_bench


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--fractions", default="1,0.75,0.5,0.25")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--adarun", default=DEFAULT_BINARY)
    args = parser.parse_args()
    settings = [("trained", {"threshold": 0.0})] + [(f"{float(f):.2f}", {"budget": float(f)}) for f in args.fractions.split(",")]
    rounds = [[adarun_bench(args.adarun, args.model, args.threads, args.iters, **options) for _, options in settings]
              for _ in range(args.rounds)]
    runs = []
    for i, (name, _) in enumerate(settings):
        run = dict(rounds[0][i], median_ms=statistics.median(r[i]["median_ms"] for r in rounds))
        runs.append((name, run))
    base = next(run for name, run in runs if name == "1.00")
    print(f"{'f':>7} {'median ms':>10} {'GMACs':>7} {'latency frac':>13} {'MAC frac':>9} {'excess':>7}  ({base['isa']})")
    for name, run in runs:
        latency, work = run["median_ms"] / base["median_ms"], run["gmacs"] / base["gmacs"]
        print(f"{name:>7} {run['median_ms']:>10.1f} {run['gmacs']:>7.3f} {latency:>13.3f} {work:>9.3f} {latency - work:>+7.3f}")


if __name__ == "__main__":
    main()
