"""The pipeline on a real SLURM scheduler (single-node cluster, tests/slurm_cluster.py).

Runs config/test.yaml with `--profile profiles/slurm`, checks the outputs and the scheduler's own
job listing, then changes one explainer setting and checks that the dry-run lists, and the real
re-run submits, only the jobs downstream of it. Skips, saying why, where SLURM cannot be set up
(no root or apt).

Opt-in (`make test-slurm`, or FACESIMXAI_SLURM_TEST=1): on the 2-core development machines the
~50 SLURM jobs take ~8 minutes plus ~3 for the re-run (queueing, status polling and each job's
Snakemake start-up), which the 30-minute CI budget cannot hold next to the local DAG tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, job_counts, rerun_after_explainer_change
from slurm_cluster import ClusterUnavailable, local_cluster

from facesimxai.io import open_zarr

pytestmark = pytest.mark.integration

LISTING = ["squeue", "--states=all", "-o", "%.6i %.9P %.10T %.9M %.40k"]


def slurm_snakemake(env: dict, workdir: Path, config: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "workflow" / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(config),
           "--profile", str(ROOT / "profiles" / "slurm"), "--workflow-profile", "none",
           # fast status polling for a test; the profile's 40 s suits a busy cluster
           "--slurm-init-seconds-before-status-checks", "1", "--latency-wait", "5", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)


def rules_submitted(env: dict, log: str) -> list[str]:
    """Rule names of this run's SLURM jobs, from the scheduler's records (job comment `rule_<name>`)."""
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    proc = subprocess.run(["squeue", "--states=all", "-h", "--name", run_id, "-o", "%k"], env=env,
                          capture_output=True, text=True, check=True)
    return sorted(re.match(r"rule_(.+?)(?:_wildcards_.*)?$", c).group(1) for c in proc.stdout.split())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if os.environ.get("FACESIMXAI_SLURM_TEST") != "1":
        pytest.skip("the SLURM test is opt-in: `make test-slurm` or FACESIMXAI_SLURM_TEST=1 (about 11 minutes)")
    try:
        with local_cluster(tmp_path_factory.mktemp("slurm")) as env:
            yield env
    except ClusterUnavailable as exc:
        pytest.skip(f"no SLURM cluster here: {exc}")


def test_pipeline_on_slurm_and_partial_rerun(cluster, tmp_path, capsys):
    work = tmp_path / "w"
    work.mkdir()
    config = ROOT / "config" / "test.yaml"
    first = slurm_snakemake(cluster, work, config)
    log = first.stdout + first.stderr
    assert first.returncode == 0, log[-5000:]
    listing = subprocess.run(LISTING, env=cluster, capture_output=True, text=True, check=True).stdout
    with capsys.disabled():
        print("\nSLURM job listing after the first run (squeue --states=all):\n" + listing)
    submitted = rules_submitted(cluster, log)
    # Every rule ran as a SLURM job except the figure rules and `all` (localrules: run by Snakemake itself).
    assert {"backbone", "train_head", "explain_part", "gather_heatmaps", "pca", "embed"} <= set(submitted)
    assert not [r for r in submitted if r.endswith("figures")]
    assert listing.count("COMPLETED") >= len(submitted)
    assert re.search(r"\bgpu\s+COMPLETED", listing), "GPU-capable rules go to the gpu partition"
    res = work / "results"
    n_trials = open_zarr(res / "heatmaps" / "hum" / "lrp.zarr").sizes["trial"]
    assert n_trials > 0 and (res / "regions" / "stats_models.parquet").exists()
    assert (res / "figures" / "latent" / "maxp_lrp_plus_embedding.png").exists()

    changed = tmp_path / "changed.yaml"
    expected = rerun_after_explainer_change(config, changed)
    dry = slurm_snakemake(cluster, work, changed, "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert job_counts(dry.stdout + dry.stderr) == expected
    second = slurm_snakemake(cluster, work, changed)
    log2 = second.stdout + second.stderr
    assert second.returncode == 0, log2[-5000:]
    resubmitted = rules_submitted(cluster, log2)
    with capsys.disabled():
        print("SLURM jobs of the re-run:", " ".join(resubmitted))
    want = sorted(r for r, n in expected.items() for _ in range(n) if r != "all" and not r.endswith("figures"))
    assert resubmitted == want
    assert yaml.safe_load(changed.read_text())["explain"]["explainers"]["lrp_plus"]["epsilon"] == 1e-4
