"""The 12 thesis regions as lists of face-mesh indices, loaded from a versioned, validated file.

The thesis hand-labelled its index sets in a GUI and never published them; here they live in
``resources/regions.yaml`` (the indices, where each list comes from, and the left/right
convention: the person's left, which is the image's right). A wrong file must stop the run with
a message that names the file, the region and the index, before any mask is drawn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from facesimxai.errors import InputError
from facesimxai.vocabulary import REGIONS

PACKAGE = Path(__file__).resolve().parents[1]  # package data: found by an installed package too
REGIONS_FILE = PACKAGE / "resources" / "regions.yaml"
REGIONS_SCHEMA = PACKAGE / "schemas" / "regions.schema.yaml"
#: Points of MediaPipe's refined face mesh (468 + 10 iris points), the index space of the regions.
N_POINTS = 478

#: Overlap policy: a pixel inside several region hulls belongs to the first of them in this
#: order. Small, sharply outlined parts come first (they are what observers name and what the
#: synthetic parameters move), large skin areas last, so a big hull never swallows a small one.
DEFAULT_PRIORITY: tuple[str, ...] = (
    "left_eye", "right_eye", "left_eyebrow", "right_eyebrow", "mouth", "nose_tip",
    "nose_bridge", "between_eyes", "chin", "left_cheek", "right_cheek", "forehead",
)


class RegionFileError(InputError):
    """A region definition file that cannot be used; the message names file, region and index."""


@dataclass(frozen=True)
class RegionSet:
    """Validated region definitions: names in thesis order and their mesh indices."""

    names: tuple[str, ...]
    indices: dict[str, tuple[int, ...]]
    path: str
    sha256: str
    convention: str


def _describe(error: jsonschema.ValidationError, path: Path) -> str:
    where = list(error.absolute_path)
    if error.validator == "additionalProperties" and where == ["regions"]:
        unknown = sorted(set(error.instance) - set(REGIONS))
        return (f"{path}: unknown region(s) {', '.join(repr(u) for u in unknown)}; "
                f"the regions are {', '.join(REGIONS)}")
    if len(where) >= 4 and where[0] == "regions" and where[2] == "indices":
        return (f"{path}: region '{where[1]}': landmark index {error.instance!r} (item {where[3]}) "
                f"{'is not an integer' if error.validator == 'type' else f'is outside 0..{N_POINTS - 1}'}"
                if error.validator in ("type", "minimum", "maximum") else
                f"{path}: region '{where[1]}', indices: {error.message}")
    if len(where) >= 2 and where[0] == "regions":
        return f"{path}: region '{where[1]}': {error.message}"
    return f"{path}: {'.'.join(map(str, where)) or '<top level>'}: {error.message}"


def load_regions(path: Path | str | None = None, schema: Path | str = REGIONS_SCHEMA) -> RegionSet:
    """Read and validate a region file (default: the shipped ``resources/regions.yaml``)."""
    path = Path(path) if path else REGIONS_FILE
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw)
    except OSError as exc:
        raise RegionFileError(f"{path}: cannot read the region file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise RegionFileError(f"{path}: not valid YAML: {exc}") from exc
    with open(schema) as fh:
        schema_doc = yaml.safe_load(fh)
    validator = jsonschema.validators.validator_for(schema_doc)(schema_doc)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise RegionFileError("; ".join(_describe(e, path) for e in errors[:5]))
    regions = data["regions"]
    for name in REGIONS:
        idx = regions[name]["indices"]
        dup = sorted({i for i in idx if idx.count(i) > 1})
        if dup:
            raise RegionFileError(f"{path}: region '{name}': landmark index {dup[0]} is listed twice")
    return RegionSet(
        names=REGIONS,
        indices={name: tuple(int(i) for i in regions[name]["indices"]) for name in REGIONS},
        path=str(path), sha256=hashlib.sha256(raw).hexdigest(), convention=data["convention"],
    )


def check_priority(priority: Sequence[str] | None) -> tuple[str, ...]:
    """The overlap order, which must name each of the 12 regions exactly once."""
    order = tuple(priority) if priority else DEFAULT_PRIORITY
    unknown = [r for r in order if r not in REGIONS]
    missing = [r for r in REGIONS if r not in order]
    if unknown or missing or len(order) != len(REGIONS):
        raise RegionFileError(
            "regions.priority must list each of the 12 regions once"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            + (f"; missing: {', '.join(missing)}" if missing else ""))
    return order
