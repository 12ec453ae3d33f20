"""Benchmarks of syncboard: `python -m bench [NAME ...]`; results go to docs/performance.md."""

from __future__ import annotations

import argparse


class BenchError(RuntimeError):
    """A benchmark could not run or a result did not check out (exit status 1)."""


def parse_sizes(text: str) -> tuple[int, ...]:
    """`10000,100_000` -> (10000, 100000): the argparse type of every size option."""
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"wants numbers like 10000,100000: {text!r}") from exc
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError("wants positive numbers")
    return sizes
