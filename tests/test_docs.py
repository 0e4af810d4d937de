"""The documentation holds together: a short README, links that resolve, every page reachable.

Fast and file-only (no pipeline): README.md is the front door (at most 150 lines), the stage
pages live in docs/, configuration is described in config/README.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
INDEX = DOCS / "index.md"
CONFIG_README = ROOT / "config" / "README.md"
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:, ...
#: A repository file named in inline code, optionally with a test: `tests/test_x.py::test_y`.
CODE_FILE = re.compile(r"`([\w./-]+\.(?:py|yaml|yml|smk|sh|rst|md))(?:::(\w+))?`")
#: A repository folder named in inline code: `src/facesimxai/latent/`.
CODE_DIR = re.compile(r"`((?:src|tests|workflow|envs|profiles|benchmarks|scripts|resources|config|docs)"
                      r"(?:/[\w.-]+)*/)`")
#: Where a short name such as `models/triplet.py` or `lrp_engines.py` is looked for.
SEARCH = ("", "src/facesimxai", "benchmarks", "tests", "scripts", "workflow", "config", "resources")
#: Files named in the docs that belong to other projects (FaceSim3D's reader).
NOT_OURS = {"read_data.py"}


def doc_files() -> list[Path]:
    return [README, CONFIG_README, *sorted(DOCS.glob("*.md"))]


def prose(path: Path) -> str:
    """The text of a markdown file without fenced code blocks and inline code."""
    return INLINE_CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))


def links(path: Path) -> list[str]:
    return LINK.findall(prose(path))


def relative_links(path: Path) -> list[tuple[str, str]]:
    """(target without #anchor, anchor) of every relative link in ``path``."""
    out = []
    for target in links(path):
        if EXTERNAL.match(target) or target.startswith("#"):
            continue
        file, _, anchor = target.partition("#")
        out.append((file, anchor))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)}


def test_the_documentation_files_exist():
    assert README.is_file() and CONFIG_README.is_file() and INDEX.is_file()
    assert len(list(DOCS.glob("*.md"))) > 1


def test_readme_is_a_front_door_of_at_most_150_lines():
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n <= 150, f"README.md has {n} lines; move detail into docs/ (at most 150)"


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path):
    broken = [f for f, _ in relative_links(path) if f and not (path.parent / f).exists()]
    assert not broken, f"{path.relative_to(ROOT)}: links to missing files: {broken}"


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_anchor_names_a_heading_of_its_page(path):
    bad = []
    for file, anchor in relative_links(path):
        target = (path.parent / file) if file else path
        if anchor and target.suffix == ".md" and target.is_file() and anchor not in anchors(target):
            bad.append(f"{file}#{anchor}")
    bad += [t for t in links(path) if t.startswith("#") and t[1:] not in anchors(path)]
    assert not bad, f"{path.relative_to(ROOT)}: anchors without a heading: {bad}"


def test_every_docs_page_is_linked_from_the_readme_or_the_index():
    linked = set()
    for page in (README, INDEX):
        linked |= {(page.parent / f).resolve() for f, _ in relative_links(page) if f}
    orphans = [p.name for p in sorted(DOCS.glob("*.md")) if p != INDEX and p.resolve() not in linked]
    assert INDEX.resolve() in linked, "README.md does not link docs/index.md"
    assert not orphans, f"docs pages linked from neither README.md nor docs/index.md: {orphans}"


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_reference_outside_the_repository(path):
    text = path.read_text(encoding="utf-8")
    for dangling in ("REFERENCE.md", "../shared"):
        assert dangling not in text, f"{path.relative_to(ROOT)} mentions {dangling!r}, which is not in the repository"


def _find(name: str, bases: list[Path]) -> Path | None:
    return next((base / name for base in bases if (base / name).exists()), None)


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_repository_file_and_test_named_exists(path):
    """Modules, scripts and tests named in the docs exist, so a move or rename shows up here.

    A bare name (`run.py`) is looked for in the folders its paragraph names (`src/facesimxai/vlm/`)
    and next to the files it names with a folder (`src/facesimxai/vlm/run.py`)."""
    missing = []
    for paragraph in re.split(r"\n\s*\n", FENCE.sub("", path.read_text(encoding="utf-8"))):
        dirs = [ROOT / d for d in CODE_DIR.findall(paragraph) if (ROOT / d).is_dir()]
        missing += [d for d in CODE_DIR.findall(paragraph) if not (ROOT / d).is_dir()]
        bases = [path.parent, *(ROOT / b for b in SEARCH)]
        for name, _ in CODE_FILE.findall(paragraph):
            found = _find(name, bases) if "/" in name else None
            if found is not None:
                dirs.append(found.parent)
        for name, test in CODE_FILE.findall(paragraph):
            if name in NOT_OURS or name.startswith("results/"):
                continue
            found = _find(name, bases + dirs)
            if found is None:
                missing.append(name)
            elif test and not re.search(rf"^\s*def {test}\(", found.read_text(encoding="utf-8"), re.M):
                missing.append(f"{name}::{test}")
    assert not missing, f"{path.relative_to(ROOT)} names files, folders or tests that do not exist: {missing}"


def test_config_readme_has_a_section_per_top_level_key():
    keys = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))["properties"]
    text = CONFIG_README.read_text(encoding="utf-8")
    missing = [k for k in keys if not re.search(rf"^#+\s+`{re.escape(k)}`\s*$", text, re.M)]
    assert not missing, f"config/README.md has no section for top-level key(s) {missing}"


def test_images_in_the_docs_stay_small():
    big = [p.name for p in DOCS.glob("*") if p.suffix in (".png", ".svg", ".jpg")
           and p.stat().st_size >= 300_000]
    assert not big, f"docs images of 300 KB or more: {big}"
