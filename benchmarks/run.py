"""Runs a benchmark workload for tfzoo and its anchors in one process.

    python -m benchmarks.run --workload encoder_block --compare keras_hub

Prints the machine, a Markdown table of median latencies, and each anchor's
time divided by tfzoo's (above 1: tfzoo is faster). `--json PATH` also writes
the raw results.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.machine import describe  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    parser.add_argument("--compare", default="keras_hub",
                        help="comma-separated anchors, e.g. keras_hub,transformers")
    parser.add_argument("--jit", action=argparse.BooleanOptionalAction, default=True,
                        help="XLA-compile the steps (default on)")
    parser.add_argument("--precision", choices=["float32", "mixed_bfloat16"],
                        default="float32")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--json", help="also write the results to this file")
    known, _ = parser.parse_known_args(argv)
    WORKLOADS[known.workload].add_arguments(parser)
    return parser.parse_args(argv)


def format_table(rows):
    baseline = {r["mode"]: r["median_ms"] for r in rows if r["implementation"] == "tfzoo"}
    lines = [
        "| implementation | mode | median ms | p10-p90 ms | anchor / tfzoo |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        ratio = r["median_ms"] / baseline[r["mode"]]
        lines.append(
            f"| {r['implementation']} | {r['mode']} | {r['median_ms']:.2f} | "
            f"{r['p10_ms']:.2f}-{r['p90_ms']:.2f} | {ratio:.2f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import keras

    keras.config.set_dtype_policy(args.precision)
    compare = [c for c in args.compare.split(",") if c]
    machine = describe()
    rows = WORKLOADS[args.workload].run(args, compare)
    settings = {k: v for k, v in vars(args).items() if k not in ("json", "compare")}
    print(f"machine: {json.dumps(machine)}")
    print(f"settings: {json.dumps(settings)}")
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "settings": settings, "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
