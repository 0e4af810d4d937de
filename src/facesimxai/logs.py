"""Per-rule logging: every rule script logs to its own file under results/logs/ and to stderr."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from facesimxai.errors import InputError


@contextmanager
def rule_logging(log_file: str | Path | None, name: str = "facesimxai") -> Iterator[logging.Logger]:
    """Route library logging to ``log_file``; log a failure before re-raising: bad input
    (``InputError``) as its one-line message, anything else with its traceback."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    root = logging.getLogger("facesimxai")
    root.setLevel(logging.INFO)
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    log = logging.getLogger(name)
    try:
        yield log
    except InputError as exc:  # the user's input: one line that names it, no traceback
        log.error("%s", exc)
        raise SystemExit(1) from None
    except Exception:
        log.exception("rule failed")
        raise
    finally:
        for h in handlers:
            root.removeHandler(h)
            h.close()
