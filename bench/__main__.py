"""`python -m bench [NAME ...] [--sizes N,N,...] [--quick] [--no-write]`: run the benchmarks.

With no NAME every benchmark runs. Each benchmark module provides `add_arguments(parser)`
(its own options) and `run(options) -> int`, and rewrites its own section of
docs/performance.md unless `--quick` or `--no-write`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from bench import BenchError, parse_sizes

#: name -> (module, one line); a new benchmark adds itself here.
BENCHMARKS = {
    "sync": ("bench.sync_hubspot", "HubSpot contacts into PostgreSQL: syncboard vs dlt rest_api"),
    "overview": ("bench.overview", "overview cards and charts, 1M calls: ORM vs raw SQL vs pandas"),
    "export": ("bench.export_csv", "calls CSV export, 10k to 1M rows: route vs pandas vs COPY"),
    "load": ("bench.load", "signed-in users of every role on 2 gunicorn workers (locust)"),
    "firstload": (
        "bench.first_load",
        "first page in Chromium at 10 Mbit/s: bytes, requests, KPI time",
    ),
}


def parser() -> argparse.ArgumentParser:
    names = "\n".join(f"  {name:8} {line}" for name, (_m, line) in BENCHMARKS.items())
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run syncboard's benchmarks.\n\nbenchmarks:\n" + names,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    p.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help="record counts, comma separated (sync default: 10000,100000)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a small smoke run (sync: 2,000 records); does not write docs/performance.md",
    )
    p.add_argument("--no-write", action="store_true", help="do not write docs/performance.md")
    for module, _line in BENCHMARKS.values():
        group = p.add_argument_group(module)
        importlib.import_module(module).add_arguments(group)
    return p


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    unknown = [n for n in options.names if n not in BENCHMARKS]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}",
            file=sys.stderr,
        )
        return 2
    options.write = not (options.quick or options.no_write)
    status = 0
    for name in options.names or list(BENCHMARKS):
        module = importlib.import_module(BENCHMARKS[name][0])
        try:
            status |= module.run(options)
        except BenchError as exc:
            print(f"bench {name}: FAILED: {exc}", file=sys.stderr)
            status |= 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
