"""tfzoo benchmarks: `python -m benchmarks.run --workload NAME --compare keras_hub`."""
