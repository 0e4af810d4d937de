"""Every rule's script imports only what its conda env installs (issue 23, point 7).

The conda route runs each rule in its own env, so a script whose ``facesimxai`` modules import a
package its env lacks (``faithfulness_summary`` in ``envs/analysis.yaml`` reached torch through
``faithfulness.summary`` → ``faithfulness.region_removal``) fails only there, never in the dev
venv where everything is installed. This test follows each script's imports statically through
``facesimxai`` — function-level imports included, since any of them may run — and maps every
third-party import to its distribution with ``importlib.metadata`` (``PIL`` → pillow), then
checks it against the env's requirements and what they pull in.
"""

from __future__ import annotations

import ast
import re
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from conftest import ROOT
from packaging.requirements import Requirement
from test_envs import pip_requirements, rule_directive, rule_envs

SRC = ROOT / "src"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def rule_scripts() -> dict[str, Path]:
    """Rule name → the script its ``script:`` directive names."""
    return {name: script for name, script in rule_directive("script").items() if script}


def _module_file(module: str) -> Path | None:
    base = SRC.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, module: str | None) -> set[str]:
    """Absolute names of every module imported anywhere in ``path`` (relative ones resolved)."""
    package = None
    if module is not None:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                stem = f"{base}.{node.module}" if node.module else base
            else:
                stem = node.module
            names.add(stem)
            # `from facesimxai.x import y` may import the submodule facesimxai.x.y
            names.update(f"{stem}.{alias.name}" for alias in node.names
                         if stem.startswith("facesimxai") and _module_file(f"{stem}.{alias.name}"))
    return names


def third_party_imports(script: Path) -> dict[str, str]:
    """Top-level third-party import → the facesimxai module (or script) that first imports it."""
    seen, todo, found = set(), [(script, None)], {}
    while todo:
        path, module = todo.pop()
        for name in sorted(_imports(path, module)):
            top = name.split(".")[0]
            if top == "facesimxai":
                parts = name.split(".")
                # importing a.b.c runs a/__init__, a/b/__init__ and a/b/c
                for i in range(1, len(parts) + 1):
                    sub = ".".join(parts[:i])
                    file = _module_file(sub)
                    if file and sub not in seen:
                        seen.add(sub)
                        todo.append((file, sub))
            elif top not in sys.stdlib_module_names and top != "__future__":
                found.setdefault(top, module or script.name)
    return found


@cache
def _distributions_of(top: str) -> tuple[str, ...]:
    return tuple(_norm(d) for d in metadata.packages_distributions().get(top, ()))


@cache
def env_closure(env: str) -> frozenset[str]:
    """The env's pip requirements and, where installed here, everything they require."""
    todo = [Requirement(r) for r in pip_requirements(ROOT / env)]
    found = set()
    while todo:
        req = todo.pop()
        name = _norm(req.name)
        if name in found:
            continue
        found.add(name)
        try:
            requires = metadata.requires(req.name) or []
        except metadata.PackageNotFoundError:  # e.g. vllm, CUDA-only, not in the dev venv
            continue
        for line in requires:
            sub = Requirement(line)
            if sub.marker is None or sub.marker.evaluate({"extra": ""}):
                todo.append(sub)
    return frozenset(found)


RULES = sorted(set(rule_scripts()) & set(rule_envs()))


def test_rules_with_scripts_were_found():
    assert len(RULES) >= 40
    assert "faithfulness_summary" in RULES


@pytest.mark.parametrize("rule", RULES)
def test_rule_imports_only_what_its_env_installs(rule):
    env = rule_envs()[rule]
    available = env_closure(env)
    missing = []
    for top, where in sorted(third_party_imports(rule_scripts()[rule]).items()):
        # not installed here (vllm is CUDA-only): the import name must then be a requirement's name
        dists = _distributions_of(top) or (_norm(top),)
        if not set(dists) & available:
            missing.append(f"{top} ({'/'.join(dists)}, imported by {where})")
    assert not missing, f"rule {rule} runs in {env}, which lacks: {', '.join(missing)}"


def test_the_check_sees_a_missing_package(tmp_path, monkeypatch):
    """Negative control: a script that reaches torch through a facesimxai module is caught."""
    script = tmp_path / "probe.py"
    script.write_text("from facesimxai.explain.rules import make_composite\n")
    found = third_party_imports(script)
    assert found["torch"] == "facesimxai.explain.rules" and "zennit" in found
    assert not set(_distributions_of("torch")) & env_closure("envs/analysis.yaml")
