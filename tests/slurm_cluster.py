"""A throw-away single-node SLURM cluster for the SLURM test (Debian's Slurm 22.05 and munge).

`local_cluster(workdir)` installs the packages when they are missing (root and apt needed),
starts munged, slurmctld and slurmd as background daemons with every file under `workdir`, and
tears them down on exit, also after a failure. No systemd, no accounting database: the pipeline's
SLURM profile uses `squeue` for job states. `python tests/slurm_cluster.py DIR` brings a cluster
up and keeps it until Ctrl-C, for trying the profile by hand.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]
DAEMONS = ["munged", "slurmctld", "slurmd"]


class ClusterUnavailable(RuntimeError):
    """SLURM cannot be installed or started here; the message says why (tests skip with it)."""


def ensure_installed() -> None:
    """Install the Debian packages if `sbatch` or a daemon is missing."""
    if all(shutil.which(b) for b in ("sbatch", "squeue", "scontrol", "slurmctld", "slurmd", "munged")):
        return
    if os.geteuid() != 0:
        raise ClusterUnavailable("SLURM is not installed and installing it needs root (apt-get)")
    if not shutil.which("apt-get"):
        raise ClusterUnavailable("SLURM is not installed and there is no apt-get to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise ClusterUnavailable(f"`{' '.join(cmd)}` failed: {proc.stderr.strip()[-500:]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal:"))
    return int(kb / 1024)


# The node advertises more than the machine has (SlurmdParameters=config_overrides keeps slurmd
# from draining it for that): the profile asks 8-16 GB per torch job, sized for the full study,
# while the test config's jobs need a few hundred MB and one thread (config `threads`) and spend
# most of their time starting up and waiting for status checks, so more of them may share the cores.
OVERSUBSCRIBE_CPUS = 2
OVERSUBSCRIBE_MEMORY = 4


def write_config(root: Path) -> Path:
    """slurm.conf for one node (oversubscribed, see above), partitions `main` (default) and `gpu`.

    Both partitions hold the same node: the pipeline's profile sends GPU-capable rules to `gpu`,
    and on this test cluster they run on the CPU (the test config's device is `cpu`). MinJobAge
    keeps finished jobs in slurmctld (no accounting database) for a day, so `squeue` still lists
    every job of the run however late in the session the test reads it. (Not 0, which the
    documentation calls "never purge": slurmctld 22.05 reports it as 2 s, and the executor plugin
    then falls back to `sacct`, which fails without accounting, and waits for ever.)
    """
    host = socket.gethostname().split(".")[0]
    cpus, memory = OVERSUBSCRIBE_CPUS * os.cpu_count(), OVERSUBSCRIBE_MEMORY * _memory_mb()
    for d in ("state", "spool", "log", "run"):
        (root / d).mkdir(parents=True, exist_ok=True)
    conf = root / "slurm.conf"
    conf.write_text(f"""\
ClusterName=facesimxai
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
AuthInfo=socket={root}/run/munge.socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/run/slurmctld.pid
SlurmdPidFile={root}/run/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=86400
SlurmdParameters=config_overrides
NodeName={host} CPUs={cpus} RealMemory={memory} State=UNKNOWN
PartitionName=main Nodes={host} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes={host} MaxTime=INFINITE State=UP
""")
    return conf


def _srun_wrapper(root: Path, conf: Path) -> Path:
    """`srun` on PATH that re-exports SLURM_CONF: the job step started inside a batch job loses it."""
    bindir = root / "bin"
    bindir.mkdir(exist_ok=True)
    wrapper = bindir / "srun"
    wrapper.write_text(f'#!/bin/sh\nexport SLURM_CONF="{conf}"\nexec {shutil.which("srun")} "$@"\n')
    wrapper.chmod(0o755)
    return bindir


def _wait_for_idle_node(env: dict, timeout: float = 60) -> None:
    end = time.time() + timeout
    out = ""
    while time.time() < end:
        proc = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True)
        out = proc.stdout.strip()
        if proc.returncode == 0 and out and all(s.startswith("idle") for s in out.split()):
            return
        time.sleep(0.5)
    raise ClusterUnavailable(f"the SLURM node did not become idle within {timeout:.0f} s (sinfo: {out!r})")


@contextlib.contextmanager
def local_cluster(root: Path) -> Iterator[dict]:
    """Start the cluster; yields the environment (SLURM_CONF, PATH) that commands must run with."""
    ensure_installed()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    conf = write_config(root)
    run = root / "run"
    key = run / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    bindir = _srun_wrapper(root, conf)
    env = {**os.environ, "SLURM_CONF": str(conf), "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    started: list[str] = []
    try:
        subprocess.run(["munged", "--force", f"--socket={run}/munge.socket", f"--key-file={key}",
                        f"--pid-file={run}/munged.pid", f"--log-file={root}/log/munged.log",
                        f"--seed-file={run}/munge.seed"], check=True, env=env, capture_output=True)
        started.append("munged")
        subprocess.run(["slurmctld", "-i", "-f", str(conf)], check=True, env=env, capture_output=True)
        started.append("slurmctld")
        subprocess.run(["slurmd", "-f", str(conf)], check=True, env=env, capture_output=True)
        started.append("slurmd")
        _wait_for_idle_node(env)
        yield env
    except subprocess.CalledProcessError as exc:
        logs = "\n".join(p.read_text()[-800:] for p in (root / "log").glob("*.log"))
        raise ClusterUnavailable(f"{exc.cmd[0]} did not start: {exc.stderr!r}\n{logs}") from None
    finally:
        subprocess.run(["scancel", "--full", "-u", "root"], env=env, capture_output=True)
        for name in reversed(started):
            _stop(run / f"{name}.pid")


def _stop(pidfile: Path, timeout: float = 10) -> None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    end = time.time() + timeout
    while time.time() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    with local_cluster(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/facesimxai-slurm")) as cluster_env:
        print(f"export SLURM_CONF={cluster_env['SLURM_CONF']} PATH={cluster_env['PATH'].split(os.pathsep)[0]}:$PATH")
        print("cluster up; Ctrl-C stops it")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
