"""Print what the kernels a profile names compute, from XLA's optimized HLO.

    XLA_FLAGS="--xla_dump_to=DUMP --xla_dump_hlo_as_text" benchmarks/gpu.sh ...
    python -m benchmarks.hlo_fusions DUMP KERNEL_NAME [KERNEL_NAME ...]

Profiles name kernels after the HLO instruction that launched them, with `_`
for `.` (`loop_convert_multiply_fusion_11` is `%loop_convert_multiply_fusion.11`).
For each name this prints that instruction (shapes, operands) and the fused
computation it calls, from the largest `*after_optimizations.txt` module in
DUMP (the training step).
"""

import argparse
import pathlib
import re


def computations(text):
    """name -> body lines of every computation in an HLO module's text."""
    bodies, current = {}, None
    for line in text.splitlines():
        header = re.match(r"^(?:ENTRY )?%?([\w.\-]+) \(.*\{$", line)
        if header:
            current = header.group(1)
            bodies[current] = []
        elif line.startswith("}"):
            current = None
        elif current is not None:
            bodies[current].append(line)
    return bodies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump")
    parser.add_argument("names", nargs="+")
    args = parser.parse_args()
    modules = sorted(pathlib.Path(args.dump).glob("*after_optimizations.txt"),
                     key=lambda p: p.stat().st_size)
    if not modules:
        raise SystemExit(f"no *after_optimizations.txt in {args.dump}")
    text = modules[-1].read_text()
    print(f"module: {modules[-1].name}")
    bodies = computations(text)
    instructions = {}
    for body in bodies.values():
        for line in body:
            match = re.match(r"^\s*(?:ROOT )?%?([\w.\-]+) = ", line)
            if match:
                instructions[match.group(1).replace(".", "_")] = line.strip()
    for name in args.names:
        line = instructions.get(name.replace(".", "_"))
        print(f"\n### {name}")
        if line is None:
            print("(not in this module)")
            continue
        print(line[:600])
        called = re.search(r"calls=%?([\w.\-]+)", line)
        if called and called.group(1) in bodies:
            for body_line in bodies[called.group(1)][:60]:
                print("   ", body_line.strip()[:300])


if __name__ == "__main__":
    main()
