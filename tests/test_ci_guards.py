"""A headline test that cannot set up what it needs skips outside CI and fails in CI (issue 24)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT

PROBE = '''
from conftest import unavailable

def test_needs_a_cluster():
    unavailable("no SLURM cluster here: slurmctld: not found")
'''


MODULE_PROBE = '''
from conftest import require_module

mesh = require_module("no_such_mediapipe")

def test_uses_the_module():
    assert mesh
'''


def _outcome(tmp_path, ci: str | None, probe: str = PROBE) -> subprocess.CompletedProcess:
    (tmp_path / "test_probe.py").write_text(probe)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           str(tmp_path / "test_probe.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


def test_outside_ci_a_missing_cluster_skips_with_its_reason(tmp_path):
    proc = _outcome(tmp_path, None)
    assert proc.returncode == 0 and "1 skipped" in proc.stdout and "slurmctld: not found" in proc.stdout


def test_in_ci_a_missing_cluster_fails_with_its_reason(tmp_path):
    proc = _outcome(tmp_path, "true")
    assert proc.returncode == 1 and "1 failed" in proc.stdout
    assert "slurmctld: not found (CI=true: this test must run in CI)" in proc.stdout


def test_a_missing_package_skips_its_module_outside_ci_and_fails_it_in_ci(tmp_path):
    """tests/test_landmarks.py and the MediaPipe tests use require_module, not importorskip."""
    outside = _outcome(tmp_path, None, MODULE_PROBE)
    # pytest's exit code 5: the whole module skipped, so nothing was collected
    assert outside.returncode == 5 and "1 skipped" in outside.stdout, outside.stdout
    inside = _outcome(tmp_path, "true", MODULE_PROBE)
    assert inside.returncode != 0 and "no_such_mediapipe cannot be imported" in inside.stdout, inside.stdout
