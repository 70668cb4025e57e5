"""Workload registry: each module exposes `add_arguments(parser)` and `run(args, compare)`."""

from benchmarks.workloads import encoder_block

WORKLOADS = {"encoder_block": encoder_block}
