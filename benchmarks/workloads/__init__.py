"""Workload registry: each module exposes `add_arguments(parser)` and `run(args, compare)`."""

from benchmarks.workloads import bert_forward, encoder_block, gpt2_generate, train_step

WORKLOADS = {"bert_forward": bert_forward, "encoder_block": encoder_block,
             "gpt2_generate": gpt2_generate, "train_step": train_step}
