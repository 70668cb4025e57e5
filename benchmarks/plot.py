"""Bar charts of benchmark results for docs/benchmarks.md.

    python -m benchmarks.plot docs/results/*.json --output docs/img/benchmarks.png

Each JSON file (written by `python -m benchmarks.run --json`) becomes one
panel: throughput (tokens/s) where the workload reports it, otherwise median
latency in ms, one bar per implementation, grouped by mode or batch size.
"""

import argparse
import json
import pathlib

COLORS = {"tfzoo": "#1f77b4", "keras_hub": "#ff7f0e", "keras_hub_default": "#ffbb78",
          "transformers": "#2ca02c"}


def panel(axis, title, results):
    if "tokens_per_s" in results[0]:
        value, label, better = "tokens_per_s", "tokens/s", "higher"
    else:
        value, label, better = "median_ms", "median ms", "lower"
    groups = sorted({str(r.get("mode", r.get("batch_size", ""))) for r in results},
                    key=lambda g: (len(g), g))
    implementations = list(dict.fromkeys(r["implementation"] for r in results))
    width = 0.8 / len(implementations)
    for i, implementation in enumerate(implementations):
        xs, ys = [], []
        for g, group in enumerate(groups):
            for r in results:
                if (r["implementation"] == implementation
                        and str(r.get("mode", r.get("batch_size", ""))) == group):
                    xs.append(g + i * width)
                    ys.append(r[value])
        bars = axis.bar(xs, ys, width, label=implementation,
                        color=COLORS.get(implementation))
        axis.bar_label(bars, fmt="{:,.0f}" if value == "tokens_per_s" else "{:.1f}",
                       fontsize=7)
    axis.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))],
                    [g if value == "median_ms" else f"batch {g}" if g.isdigit() else g
                     for g in groups])
    axis.set_ylabel(f"{label} ({better} is better)")
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(args.results), figsize=(4.2 * len(args.results), 3.6),
                             squeeze=False)
    for axis, path in zip(axes[0], args.results):
        data = json.loads(pathlib.Path(path).read_text())
        settings = data["settings"]
        title = f"{pathlib.Path(path).stem}\n{settings['workload']}, {settings['precision']}"
        panel(axis, title, data["results"])
    fig.tight_layout()
    pathlib.Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=110)


if __name__ == "__main__":
    main()
