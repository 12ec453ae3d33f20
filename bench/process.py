"""Measured child processes: each benchmark run gets a fresh interpreter, so its peak
memory is its own, and hands its figures back as one marked JSON line on stdout."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import BenchError

ROOT = Path(__file__).resolve().parents[1]
RESULT_MARK = "BENCH-RESULT "


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS/VmHWM of a process in kB (Linux /proc)."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def reset_peak(pid: int | str = "self") -> bool:
    """Set the process's VmHWM back to its current RSS (Linux 4.0+, same user).

    Importing the app hashes a dummy password with argon2 (64 MiB), and signing in
    verifies one: without a reset, that spike would stand in for the measured work's peak.
    """
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def emit(result: dict[str, Any]) -> None:
    """A child's last word: its figures, for `run_child`."""
    sys.stdout.write(RESULT_MARK + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


def child_env(app_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a child running the app on the scratch database, alone."""
    env = dict(os.environ)
    for name in ("REDIS_URL", "SYNCBOARD_URL_PREFIX", "SMTP_URL", "ADMIN_EMAIL", "ADMIN_PASSWORD"):
        env.pop(name, None)
    env.update(
        DATABASE_URL=app_url,
        SYNCBOARD_INSTANCE_DIR=str(workdir / "instance"),
        SECRET_KEY="bench-secret-key-0123456789",
        SYNCBOARD_CONNECTOR_ALLOW_HOSTS="127.0.0.1",  # the benchmarks' fake APIs
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        **extra,
    )
    return env


def run_child(
    module: str, kind: str, params: dict[str, Any], env: dict[str, str], timeout: float
) -> dict[str, Any]:
    """`python -m MODULE child KIND PARAMS_JSON`, and the figures it emitted."""
    proc = subprocess.run(
        [sys.executable, "-m", module, "child", kind, json.dumps(params)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-25:])
    raise BenchError(f"{kind} child exited {proc.returncode} without a result:\n{tail}")
