"""The `tfzoo` command line, run as a user runs it (a subprocess)."""

import subprocess
import sys


def tfzoo(*args):
    return subprocess.run(
        [sys.executable, "-m", "tfzoo.cli.main", *args],
        capture_output=True, text=True, timeout=600,
    )


def test_unknown_command_names_it():
    result = tfzoo("frobnicate")
    assert result.returncode != 0
    assert "received frobnicate" in result.stderr


def test_demo_runs_end_to_end():
    result = tfzoo("demo", "--demo_examples=1500", "--demo_epochs=3", "--demo_digits=6")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "cached == uncached decoding:     True" in result.stdout
    accuracy = float(result.stdout.split("held-out token accuracy:")[1].split()[0])
    assert accuracy > 0.9
