"""Runs a benchmark workload for tfzoo and its anchors in one process.

    python -m benchmarks.run --workload encoder_block --compare keras_hub

Prints the machine and a Markdown table of the results with tfzoo's speed
relative to each implementation (above 1: tfzoo is faster). By default the
table holds median latencies and each anchor's time divided by tfzoo's; a
workload that measures something else names its own columns in
`TABLE_COLUMNS`. `--json PATH` also writes the raw results.
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
    parser.add_argument("--precision", choices=["float32", "mixed_bfloat16", "bfloat16"],
                        default="float32")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--json", help="also write the results to this file")
    known, _ = parser.parse_known_args(argv)
    WORKLOADS[known.workload].add_arguments(parser)
    return parser.parse_args(argv)


# (header, format string over a result row, alignment)
LATENCY_COLUMNS = (
    ("implementation", "{implementation}", "left"),
    ("mode", "{mode}", "left"),
    ("median ms", "{median_ms:.2f}", "right"),
    ("p10-p90 ms", "{p10_ms:.2f}-{p90_ms:.2f}", "right"),
    ("anchor / tfzoo", "{tfzoo_speedup:.2f}", "right"),
)


def with_latency_ratios(rows):
    """Adds `tfzoo_speedup`: the row's median time over tfzoo's in the same mode."""
    baseline = {r["mode"]: r["median_ms"] for r in rows if r["implementation"] == "tfzoo"}
    return [{**r, "tfzoo_speedup": r["median_ms"] / baseline[r["mode"]]} for r in rows]


def format_table(rows, columns=LATENCY_COLUMNS):
    """A Markdown table with one line per result row."""
    lines = [
        "| " + " | ".join(header for header, _, _ in columns) + " |",
        "|" + "|".join("---:" if align == "right" else "---" for _, _, align in columns) + "|",
    ]
    for r in rows:
        lines.append("| " + " | ".join(template.format(**r) for _, template, _ in columns)
                     + " |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import keras

    keras.config.set_dtype_policy(args.precision)
    compare = [c for c in args.compare.split(",") if c]
    machine = describe()
    workload = WORKLOADS[args.workload]
    rows = workload.run(args, compare)
    columns = getattr(workload, "TABLE_COLUMNS", None)
    if columns is None:
        rows, columns = with_latency_ratios(rows), LATENCY_COLUMNS
    settings = {k: v for k, v in vars(args).items() if k not in ("json", "compare")}
    print(f"machine: {json.dumps(machine)}")
    print(f"settings: {json.dumps(settings)}")
    print(format_table(rows, columns))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "settings": settings, "results": rows}, f, indent=2)


if __name__ == "__main__":
    main()
