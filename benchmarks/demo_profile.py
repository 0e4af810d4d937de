"""Seconds per rule of a whole pipeline run, from Snakemake's own log.

Runs the workflow from scratch on a config in an empty directory (default: the demo,
``config/config.yaml``, with 2 cores) — or, with ``--log``, reads the log of a run already made
(``<workdir>/.snakemake/log/*.snakemake.log``) — and prints one row per rule: jobs, the summed
seconds of its jobs (start to finish, as Snakemake logs them; jobs run side by side, so the sum
over rules exceeds the wall time) and its share of the summed job time, slowest first. The last
line is ``wall_s=<w> job_s=<j> jobs=<n>``.

Run: ``python benchmarks/demo_profile.py [--config config/config.yaml] [--cores 2] [--log FILE]``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
START = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
JOBID = re.compile(r"^\s+jobid: (\d+)$")
FINISH = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")


def parse_log(text: str) -> tuple[dict[str, list[float]], float]:
    """(rule → seconds of each finished job, wall seconds from the first start to the last finish)."""
    started: dict[str, datetime] = {}
    per_rule: dict[str, list[float]] = defaultdict(list)
    stamp, pending, first, last = None, None, None, None
    for line in text.splitlines():
        if m := STAMP.match(line):
            stamp = datetime.strptime(" ".join(m.group(1).split()), "%a %b %d %H:%M:%S %Y")
        elif m := START.match(line):
            pending = stamp
        elif (m := JOBID.match(line)) and pending is not None:
            started[m.group(1)] = pending
            first = pending if first is None else min(first, pending)
            pending = None
        elif m := FINISH.match(line):
            job, rule = m.groups()
            if job in started and rule != "all":
                per_rule[rule].append((stamp - started[job]).total_seconds())
                last = stamp
    wall = (last - first).total_seconds() if first and last else float("nan")
    return per_rule, wall


def run_pipeline(config: Path, cores: int) -> tuple[str, float]:
    work = Path(tempfile.mkdtemp(prefix="demo_profile_"))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "workflow" / "Snakefile"),
                           "--directory", str(work), "--configfile", str(config), "--cores", str(cores)],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"pipeline failed in {work}:\n{proc.stderr[-3000:]}")
    log = sorted((work / ".snakemake" / "log").glob("*.snakemake.log"))[-1]
    print(f"run directory {work} ({seconds:.0f} s including start-up)", file=sys.stderr)
    return log.read_text(), seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", type=Path, default=ROOT / "config" / "config.yaml")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--log", type=Path, help="parse this Snakemake log instead of running")
    args = ap.parse_args()
    text = args.log.read_text() if args.log else run_pipeline(args.config, args.cores)[0]
    per_rule, wall = parse_log(text)
    total = sum(sum(v) for v in per_rule.values())
    print(f"{'rule':28s} {'jobs':>4s} {'job s':>8s} {'share':>6s}")
    for rule, secs in sorted(per_rule.items(), key=lambda kv: -sum(kv[1])):
        print(f"{rule:28s} {len(secs):4d} {sum(secs):8.0f} {sum(secs) / total:6.1%}")
    print(f"wall_s={wall:.0f} job_s={total:.0f} jobs={sum(len(v) for v in per_rule.values())}")


if __name__ == "__main__":
    main()
