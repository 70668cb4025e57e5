"""Where the GPU time goes, from a JAX profiler trace (`--profile DIR`).

    python -m benchmarks.trace_summary DIR_OR_TRACE_JSON_GZ [--steps 5] [--top 25]

Reads the Perfetto/Chrome trace that `jax.profiler.trace(...,
create_perfetto_trace=True)` writes, adds up the durations of the kernels run
on the GPU, and prints them per step: by kind (matrix products, fused
attention, XLA fusions of elementwise work, copies, other) and the largest
kernels by name.
"""

import argparse
import collections
import gzip
import json
import pathlib
import re

KINDS = (  # first match wins
    ("attention (cuDNN)", re.compile(r"fmha|flash|cudnn", re.I)),
    ("matmul", re.compile(r"gemm|cublas|cutlass|matmul|sm90_xmma|nvjet", re.I)),
    ("copy/transfer", re.compile(r"memcpy|memset|copy", re.I)),
    ("random bits", re.compile(r"threefry|rng|random", re.I)),
    ("reduction", re.compile(r"reduce", re.I)),
    ("XLA fusion", re.compile(r"fusion|loop_|input_|wrapped_", re.I)),
)


def find_trace(path):
    path = pathlib.Path(path)
    if path.is_file():
        return path
    traces = sorted(path.rglob("*.trace.json.gz"))
    if not traces:
        raise FileNotFoundError(f"No *.trace.json.gz under {str(path)!r}")
    return traces[-1]


def gpu_kernels(trace):
    """(name, microseconds) of every complete event on a GPU process."""
    with gzip.open(trace, "rt") as f:
        events = json.load(f)["traceEvents"]
    gpu_pids = {e["pid"] for e in events
                if e.get("ph") == "M" and e.get("name") == "process_name"
                and re.search(r"GPU|gpu|/device:", str(e.get("args", {}).get("name", "")))}
    gpu_pids -= {e["pid"] for e in events if e.get("ph") == "M" and e.get("name") ==
                 "process_name" and "host" in str(e.get("args", {}).get("name", "")).lower()}
    # A GPU process also has derived lines ("XLA Ops", "XLA Modules") that
    # repeat the kernels' time: count the CUDA streams' lines only.
    streams = {(e["pid"], e["tid"]) for e in events
               if e.get("ph") == "M" and e.get("name") == "thread_name"
               and e.get("pid") in gpu_pids
               and str(e.get("args", {}).get("name", "")).startswith("Stream")}
    return [(e["name"], float(e.get("dur", 0.0))) for e in events
            if e.get("ph") == "X" and e.get("pid") in gpu_pids
            and (not streams or (e["pid"], e.get("tid")) in streams)]


def kind_of(name):
    for kind, pattern in KINDS:
        if pattern.search(name):
            return kind
    return "other"


def summarize(kernels, steps, top):
    total = sum(d for _, d in kernels)
    by_kind = collections.Counter()
    by_name = collections.Counter()
    for name, duration in kernels:
        by_kind[kind_of(name)] += duration
        by_name[name] += duration
    lines = [f"GPU busy per step: {total / steps / 1000:.2f} ms over {len(kernels)} kernels "
             f"in {steps} steps", "", "| kind | ms / step | share |", "|---|---:|---:|"]
    for kind, duration in by_kind.most_common():
        lines.append(f"| {kind} | {duration / steps / 1000:.2f} | {duration / total:.1%} |")
    lines += ["", "| kernel | kind | ms / step |", "|---|---|---:|"]
    for name, duration in by_name.most_common(top):
        lines.append(f"| {name[:70]} | {kind_of(name)} | {duration / steps / 1000:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    print(summarize(gpu_kernels(find_trace(args.trace)), args.steps, args.top))


if __name__ == "__main__":
    main()
