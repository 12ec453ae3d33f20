"""Benchmarks of syncboard: `python -m bench [NAME ...]`; results go to docs/performance.md."""
