"""docs/performance.md: each benchmark rewrites its own section and nothing else."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
HEADER = (
    "# Performance\n\n"
    "Benchmarks of syncboard, run with `python -m bench` (see `bench/README.md`).\n"
    "Each section is rewritten by its benchmark; numbers are from the machine named "
    "in the section.\n\n"
)


def end_mark(module: str) -> str:
    """The line closing a benchmark's part of its section; hand-written text below it stays."""
    return f"<!-- end of the part {module} writes; text below is kept -->"


def write_section(section: str, text: str, mark: str | None = None, doc: Path = DOC) -> None:
    """Replace the `section` heading's part with `text` (or append it).

    Other sections are left as they are, and so is whatever follows `mark` inside the
    section (analysis written by hand), so a re-run refreshes the figures only.
    """
    doc.parent.mkdir(parents=True, exist_ok=True)
    current = doc.read_text() if doc.exists() else HEADER
    lines = current.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == section), None)
    if start is None:
        doc.write_text(current.rstrip("\n") + "\n\n" + text)
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    found = next((i for i in range(start + 1, end) if mark and lines[i].strip() == mark), None)
    tail = "".join(lines[found + 1 if found is not None else end :])
    if found is None and tail:
        tail = "\n" + tail
    doc.write_text("".join(lines[:start]) + text + tail)
