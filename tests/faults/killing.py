"""Killing a stage's library function with a real SIGKILL at an exact point, in a child process.

The child wraps one method (say ``torch.optim.Adam.step``) to count its calls and SIGKILL its own
process at the N-th call, before the call runs: the stage dies mid-epoch or mid-batch the way a
pre-empted cluster job does, with no chance to clean up. Nothing in the library knows about it.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import ROOT, resolved_config

CHILD = textwrap.dedent("""
    import importlib, logging, os, signal, sys
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
    target, kill_at = sys.argv[1], int(sys.argv[2])
    module, owner, attr = target.rsplit(".", 2)
    owner = getattr(importlib.import_module(module), owner)
    original, calls = getattr(owner, attr), [0]

    def counted(*args, **kwargs):
        calls[0] += 1
        if calls[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)

    setattr(owner, attr, counted)
    exec(sys.stdin.read())
    print(f"CALLS={calls[0]}")
""")


def run_child(code: str, target: str, kill_at: int = 0, cwd: Path = ROOT,
              timeout: int = 300) -> tuple[int, int | None, str]:
    """Run ``code`` with ``target`` counted (and SIGKILLed at call ``kill_at`` > 0).

    Returns (exit code, calls counted or None when killed, stderr).
    """
    proc = subprocess.run([sys.executable, "-c", CHILD, target, str(kill_at)], input=textwrap.dedent(code),
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if kill_at:
        assert proc.returncode == -signal.SIGKILL, f"not killed (rc {proc.returncode}): {proc.stderr[-2000:]}"
        return proc.returncode, None, proc.stderr
    assert proc.returncode == 0, proc.stderr[-3000:]
    calls = int(re.search(r"CALLS=(\d+)", proc.stdout).group(1))
    return proc.returncode, calls, proc.stderr


def pipeline_threads(config: Path = ROOT / "config" / "test.yaml") -> int:
    """Threads the pipeline gives its multi-threaded rules (config `threads`): torch results
    depend on the thread count, so a resumed computation must use the same."""
    return int(resolved_config(config)["threads"])


def literal(value) -> str:
    """``value`` as Python source for the child: a JSON string literal decoded there."""
    return f"__import__('json').loads({json.dumps(value)!r})"
