"""The pipeline on a real SLURM scheduler (single-node cluster, tests/slurm_cluster.py).

The second of the session's two from-scratch runs (`two_runs`, tests/conftest.py) is
config/test.yaml with `--profile profiles/slurm` on that cluster; the determinism test compares
it with the local run. Here its outputs and the scheduler's own job listing are checked, and
the partial re-run: with one explainer setting changed, the dry-run must list, and the real
re-run submit, only the jobs downstream of it. Skips, saying why, where SLURM cannot be set up
(no root or apt to install it, or FACESIMXAI_SLURM=0).
"""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import job_counts

from facesimxai.io import open_zarr

pytestmark = pytest.mark.integration

LISTING = ["squeue", "--states=all", "-o", "%.6i %.9P %.10T %.9M %.40k"]


def rules_submitted(env: dict, log: str) -> list[str]:
    """Rule names of this run's SLURM jobs, from the scheduler's records (job comment `rule_<name>`)."""
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    proc = subprocess.run(["squeue", "--states=all", "-h", "--name", run_id, "-o", "%k"], env=env,
                          capture_output=True, text=True, check=True)
    return sorted(re.match(r"rule_(.+?)(?:_wildcards_.*)?$", c).group(1) for c in proc.stdout.split())


def test_pipeline_on_slurm_and_partial_rerun(slurm_cluster, two_runs, slurm_rerun, capsys):
    cluster = slurm_cluster  # skips, saying why, where SLURM cannot be set up
    log = (two_runs[1].parent / "snakemake.log").read_text()
    listing = subprocess.run(LISTING, env=cluster, capture_output=True, text=True, check=True).stdout
    with capsys.disabled():
        print("\nSLURM job listing after the first run (squeue --states=all):\n" + listing)
    submitted = rules_submitted(cluster, log)
    # Every rule ran as a SLURM job except the figure rules and `all` (localrules: run by Snakemake itself).
    assert {"backbone", "train_head", "explain_part", "gather_heatmaps", "pca", "embed"} <= set(submitted)
    assert not [r for r in submitted if r.endswith("figures")]
    assert listing.count("COMPLETED") >= len(submitted)
    assert re.search(r"\bgpu\s+COMPLETED", listing), "GPU-capable rules go to the gpu partition"
    res = two_runs[1]
    n_trials = open_zarr(res / "heatmaps" / "hum" / "lrp.zarr").sizes["trial"]
    assert n_trials > 0 and (res / "regions" / "stats_models.parquet").exists()
    assert (res / "figures" / "latent" / "maxp_lrp_plus_embedding.png").exists()

    # The re-run with one explainer setting changed (conftest starts it in the background on a
    # copy of this run as soon as the run is done).
    rerun = slurm_rerun
    assert rerun.dry.returncode == 0, rerun.dry.stderr[-3000:]
    assert job_counts(rerun.dry.stdout + rerun.dry.stderr) == rerun.expected
    rc, log2 = rerun.log()
    assert rc == 0, log2[-5000:]
    resubmitted = rules_submitted(cluster, log2)
    with capsys.disabled():
        print("SLURM jobs of the re-run:", " ".join(resubmitted))
    want = sorted(r for r, n in rerun.expected.items() for _ in range(n) if r != "all" and not r.endswith("figures"))
    assert resubmitted == want
