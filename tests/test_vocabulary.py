"""One owner per name and no import circles: the vocabulary, the contracts layer and the stage
packages' import graph (issue "one owner for each data contract")."""

from __future__ import annotations

import ast

import yaml
from conftest import ROOT

from facesimxai.landmarks.region_definitions import load_regions
from facesimxai.vocabulary import MODEL_NAMES, MODELS, REGION_COLOURS, REGIONS, THESIS_MODELS, model_wildcard

PACKAGE = ROOT / "src" / "facesimxai"
#: Modules every stage may use; they import nothing above them.
GROUND_FLOOR = {"artifacts", "vocabulary", "errors", "io", "config", "logs", "numerics", "plotting", "bootstrap",
                "shapley", "torch_utils", "resume"}


def test_every_model_and_region_has_one_name_and_colour():
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    trained = schema["properties"]["models"]["properties"]["trained"]
    assert tuple(trained["items"]["enum"]) == MODELS
    assert set(MODEL_NAMES) == set(MODELS) and set(THESIS_MODELS) <= set(MODELS)
    assert list(REGION_COLOURS) == list(REGIONS) and len(set(REGION_COLOURS.values())) == len(REGIONS)
    assert tuple(load_regions().names) == REGIONS  # the landmark definitions name the same regions


def test_the_model_wildcard_matches_the_longest_id_first():
    import re

    pattern = re.compile(f"^(?:{model_wildcard()})$")
    assert all(pattern.match(m) for m in MODELS) and not pattern.match("hum_seed1")
    # Snakemake's regex tries alternatives in order: "hum" first would stop "hum_distance" at "hum"
    order = model_wildcard().split("|")
    assert order.index("hum_distance") < order.index("hum")


def package_imports() -> dict[str, set[str]]:
    """Top-level subpackage/module of facesimxai → the ones it imports (function-level imports too)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("facesimxai."):
                other = node.module.split(".")[1]
                if other != own:
                    graph.setdefault(own, set()).add(other)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    return sorted((a, b) for a, targets in graph.items() for b in targets if a in reach(b))


def test_no_stage_imports_a_stage_that_imports_it_back():
    assert _cycles(package_imports()) == []
    assert _cycles({"regions": {"validity"}, "validity": {"regions"}}) == [("regions", "validity"),
                                                                          ("validity", "regions")]


def test_the_ground_floor_imports_no_stage():
    graph = package_imports()
    upward = {m: sorted(graph.get(m, set()) - GROUND_FLOOR) for m in GROUND_FLOOR}
    assert {m: up for m, up in upward.items() if up} == {}
