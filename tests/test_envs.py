"""Per-rule conda environments: every rule names one, and each one's pip requirements resolve.

Conda channels are unreachable on the development machines, so the resolve is pip's dry-run
against PyPI (the envs install everything but Python and pip from PyPI anyway).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT, unavailable

ENVS = sorted((ROOT / "envs").glob("*.yaml"))
RULE_FILES = sorted((ROOT / "workflow" / "rules").glob("*.smk"))
NETWORK_ERRORS = ("NewConnectionError", "Network is unreachable", "Temporary failure in name resolution",
                  "ConnectTimeoutError", "ProxyError")


def pip_requirements(env: Path) -> list[str]:
    deps = yaml.safe_load(env.read_text())["dependencies"]
    return [req for dep in deps if isinstance(dep, dict) for req in dep.get("pip", [])]


def rule_directive(directive: str) -> dict[str, Path | None]:
    """Rule name → the resolved path its ``directive:`` (conda, script) names, None without one."""
    found = {}
    for path in RULE_FILES:
        text = path.read_text()
        starts = [(m.start(), m.group(1)) for m in re.finditer(r"^\s*rule (\w+):", text, re.M)]
        ends = [s for s, _ in starts[1:]] + [len(text)] if starts else []
        for (start, name), end in zip(starts, ends, strict=True):
            value = re.search(directive + r":\s*\n\s*\"([^\"]+)\"", text[start:end])
            found[name] = value and (path.parent / value.group(1)).resolve()
    return found


def rule_envs() -> dict[str, str]:
    """Rule name → the env file its `conda:` directive names (None when it has none)."""
    return {name: env and env.relative_to(ROOT).as_posix() for name, env in rule_directive("conda").items()}


def test_every_rule_names_an_existing_env():
    envs = rule_envs()
    assert len(envs) >= 25  # every stage's rules were found
    missing = sorted(rule for rule, env in envs.items() if env is None)
    assert not missing, f"rules without a conda env: {missing}"
    for rule, env in envs.items():
        assert (ROOT / env).is_file(), f"rule {rule}: {env} does not exist"


def test_incompatible_pins_live_in_separate_envs():
    by_env = {env.stem: " ".join(pip_requirements(env)) for env in ENVS}
    assert [name for name, reqs in by_env.items() if "mediapipe" in reqs] == ["landmarks"]
    assert all("vllm" not in reqs for name, reqs in by_env.items() if name != "vlm")
    envs = rule_envs()
    assert envs["landmarks"] == "envs/landmarks.yaml" and envs["explain_part"] == "envs/torch.yaml"


def test_every_env_resolves_from_pypi(tmp_path):
    """pip's dry-run resolve of each env's requirements, all envs at once (network-bound)."""
    procs = {}
    for env in ENVS:
        reqs = tmp_path / f"{env.stem}.txt"
        reqs.write_text("\n".join(pip_requirements(env)) + "\n")
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
               "--report", str(tmp_path / f"{env.stem}.json"), "-r", str(reqs)]
        procs[env] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    errors = {env: proc.communicate(timeout=900)[1] for env, proc in procs.items()}
    for env, proc in procs.items():
        if proc.returncode != 0 and any(e in errors[env] for e in NETWORK_ERRORS):
            unavailable(f"PyPI unreachable: {errors[env].strip().splitlines()[-1]}")
        assert proc.returncode == 0, f"{env.name} does not resolve:\n{errors[env][-2000:]}"
        report = json.loads((tmp_path / f"{env.stem}.json").read_text())
        installed = {item["metadata"]["name"].lower() for item in report["install"]}
        wanted = {re.split(r"[<>=!~\[ ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in pip_requirements(env)}
        assert wanted <= installed, f"{env.name}: not in the resolution: {wanted - installed}"
