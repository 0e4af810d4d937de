"""Region definitions (resources/regions.yaml), hull rasterisation and the overlap policy."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from conftest import require_module

from facesimxai.config import ConfigError, validate_config
from facesimxai.landmarks.masks import hull_mask, resolve_overlaps
from facesimxai.landmarks.region_definitions import (
    DEFAULT_PRIORITY,
    REGIONS_FILE,
    RegionFileError,
    check_priority,
    load_regions,
)
from facesimxai.vocabulary import REGIONS


def test_shipped_regions_load_in_thesis_order():
    regions = load_regions()
    assert regions.names == REGIONS and len(regions.names) == 12
    assert regions.convention == "person"
    assert all(len(regions.indices[r]) >= 3 for r in REGIONS)
    assert all(0 <= i < 478 for idx in regions.indices.values() for i in idx)


def test_published_mediapipe_sets_are_used_where_they_exist():
    conn = require_module("mediapipe").solutions.face_mesh_connections

    def points(*sets):
        return {i for s in sets for e in s for i in e}

    idx = {k: set(v) for k, v in load_regions().indices.items()}
    assert idx["left_eyebrow"] == points(conn.FACEMESH_LEFT_EYEBROW)
    assert idx["right_eyebrow"] == points(conn.FACEMESH_RIGHT_EYEBROW)
    assert idx["mouth"] == points(conn.FACEMESH_LIPS)
    assert idx["left_eye"] >= points(conn.FACEMESH_LEFT_EYE, conn.FACEMESH_LEFT_IRIS)
    assert idx["right_eye"] >= points(conn.FACEMESH_RIGHT_EYE, conn.FACEMESH_RIGHT_IRIS)
    assert idx["nose_bridge"] | idx["nose_tip"] >= points(conn.FACEMESH_NOSE)
    # Left and right lists never share a point.
    for side in ("eyebrow", "eye", "cheek"):
        assert not idx[f"left_{side}"] & idx[f"right_{side}"]


def _write(tmp_path, mutate) -> str:
    data = yaml.safe_load(REGIONS_FILE.read_text())
    mutate(data["regions"])
    path = tmp_path / "my_regions.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.mark.parametrize("bad", [478, 1000, -1])
def test_out_of_range_index_names_file_region_and_index(tmp_path, bad):
    path = _write(tmp_path, lambda r: r["nose_tip"]["indices"].append(bad))
    with pytest.raises(RegionFileError) as err:
        load_regions(path)
    msg = str(err.value)
    assert "my_regions.yaml" in msg and "'nose_tip'" in msg and f"landmark index {bad}" in msg
    assert "outside 0..477" in msg


def test_unknown_region_name_is_refused(tmp_path):
    path = _write(tmp_path, lambda r: r.update(nose_tipp=r["nose_tip"]))
    with pytest.raises(RegionFileError, match=r"my_regions.yaml: unknown region\(s\) 'nose_tipp'"):
        load_regions(path)


def test_missing_region_duplicate_and_non_integer_index_are_refused(tmp_path):
    with pytest.raises(RegionFileError, match="'chin' is a required property"):
        load_regions(_write(tmp_path, lambda r: r.pop("chin")))
    with pytest.raises(RegionFileError, match="region 'mouth': landmark index 0 is listed twice"):
        load_regions(_write(tmp_path, lambda r: r["mouth"]["indices"].append(0)))
    with pytest.raises(RegionFileError, match=r"region 'chin': landmark index '7' .* not an integer"):
        load_regions(_write(tmp_path, lambda r: r["chin"]["indices"].append("7")))
    with pytest.raises(RegionFileError, match="cannot read"):
        load_regions(tmp_path / "absent.yaml")


def test_priority_must_name_each_region_once():
    assert check_priority(None) == DEFAULT_PRIORITY
    assert set(DEFAULT_PRIORITY) == set(REGIONS)
    with pytest.raises(RegionFileError, match="missing: chin"):
        check_priority([r for r in DEFAULT_PRIORITY if r != "chin"])
    with pytest.raises(RegionFileError, match="unknown: nose"):
        check_priority([*DEFAULT_PRIORITY[:-1], "nose"])


def test_config_schema_defaults_and_rejects_a_bad_priority():
    cfg = validate_config({})
    assert cfg["landmarks"] == {"on_missing": "fail", "min_detection_confidence": 0.5,
                                "detect_at": "image"}
    assert tuple(cfg["regions"]["priority"]) == DEFAULT_PRIORITY
    assert cfg["regions"]["file"] is None and cfg["regions"]["margin"] == 1.0
    with pytest.raises(ConfigError, match="regions.priority"):
        validate_config({"regions": {"priority": [*DEFAULT_PRIORITY[:-1], "left_eye"]}})
    with pytest.raises(ConfigError, match="landmarks.on_missing"):
        validate_config({"landmarks": {"on_missing": "skip"}})


def test_hull_is_rasterised_at_pixel_centres_with_optional_margin():
    square = np.array([[2, 2], [6, 2], [6, 6], [2, 6], [4, 4]], float)  # interior point ignored
    m = hull_mask(square, 10)
    assert m.sum() == 16 and m[2:6, 2:6].all()  # centres 2.5..5.5 lie inside [2, 6]
    grown = hull_mask(square, 10, margin=1.0)
    assert grown[1:7, 1:7].all() and grown.sum() == 36
    assert hull_mask(np.array([[1, 1], [2, 2], [3, 3]], float), 10).sum() == 0  # collinear
    assert hull_mask(np.array([[-5, -5], [30, -5], [30, 30]], float), 10).sum() == 55  # clipped


def test_overlaps_go_to_the_first_region_in_priority_order():
    hulls = np.zeros((3, 8, 8), bool)
    hulls[0, :, :5] = True
    hulls[1, :, 3:] = True
    hulls[2, 2:4, 2:4] = True
    masks = resolve_overlaps(hulls, ["a", "b", "c"], ["c", "b", "a"])
    assert masks.sum(axis=0).max() == 1
    assert np.array_equal(masks.any(axis=0), hulls.any(axis=0))
    # b wins the shared columns 3-4 from a, except the two pixels c takes.
    assert masks[2, 2:4, 2:4].all() and masks[1, :, 3:5].sum() == 16 - 2
    assert not masks[0, :, 3:].any()
