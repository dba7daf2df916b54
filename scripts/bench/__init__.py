"""The parts of scripts/benchmark.py, each readable alone (see its docstring)."""
