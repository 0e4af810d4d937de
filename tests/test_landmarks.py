"""MediaPipe landmarks and region masks checked against the synthetic faces' ground truth."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import require_module
from PIL import Image

from facesimxai.data.face_params import PARAMETER_NAMES, sample_parameters
from facesimxai.data.render import render_face
from facesimxai.data.triplets import build_triplets
from facesimxai.io import open_zarr
from facesimxai.landmarks.masks import build_region_masks, region_hulls, resolve_overlaps
from facesimxai.landmarks.mesh import (
    N_POINTS,
    NoFaceMeshError,
    compute_landmarks,
    detect_landmarks,
    resize_square,
)
from facesimxai.landmarks.region_definitions import DEFAULT_PRIORITY, load_regions

require_module("mediapipe")

REGIONS = load_regions()
NAMES = list(REGIONS.names)
MARGIN = 1.0
CHANGED = 8  # a pixel "changes" when a channel moves by more than 8 of 255 (about 3 %)

#: Acceptance: the pixels each parameter changes must fall (>= 90 %) in these regions.
TARGETS = {
    "mouth_width": ["mouth"], "lip_thickness": ["mouth"], "mouth_height": ["mouth"],
    "nose_length": ["nose_bridge", "nose_tip"], "nose_width": ["nose_bridge", "nose_tip"],
    "eye_spacing": ["left_eye", "right_eye", "between_eyes"],
    "eye_size": ["left_eye", "right_eye"], "eye_height": ["left_eye", "right_eye"],
    "brow_height": ["left_eyebrow", "right_eyebrow"],
    "brow_thickness": ["left_eyebrow", "right_eyebrow"],
    "brow_slope": ["left_eyebrow", "right_eyebrow"],
}
BASES = np.vstack([np.zeros(len(PARAMETER_NAMES)), 0.5 * sample_parameters(2, np.random.default_rng(0))])


@pytest.fixture(scope="module")
def extremes():
    """Each target parameter at -1 and +1 on each base face: images and 224-px landmarks."""
    images = []
    for name in TARGETS:
        j = PARAMETER_NAMES.index(name)
        for base in BASES:
            lo, hi = base.copy(), base.copy()
            lo[j], hi[j] = -1.0, 1.0
            images += [render_face(lo), render_face(hi)]
    images = np.stack(images)
    landmarks, score = detect_landmarks(images, 224)
    assert not np.isnan(landmarks).any(), "no face mesh on a synthetic face"
    return images.reshape(len(TARGETS), len(BASES), 2, *images.shape[1:]), \
        landmarks.reshape(len(TARGETS), len(BASES), 2, N_POINTS, 3), score


def _masks(landmarks: np.ndarray, size: int) -> np.ndarray:
    return resolve_overlaps(region_hulls(landmarks, REGIONS, size, MARGIN), NAMES, DEFAULT_PRIORITY)


@pytest.mark.parametrize("size", [112, 64], ids=["demo-112px", "ci-64px"])
@pytest.mark.parametrize("param", list(TARGETS))
def test_region_masks_cover_the_pixels_their_parameters_change(extremes, param, size):
    images, landmarks, _ = extremes
    k = list(TARGETS).index(param)
    for b in range(len(BASES)):
        small = resize_square(images[k, b], size).astype(int)
        changed = np.abs(small[1] - small[0]).max(axis=-1) > CHANGED
        assert changed.sum() >= 8, f"{param} changes too few pixels at {size} px"
        # A changed pixel belongs to the part in one of the two faces: use both faces' masks.
        target = np.zeros((size, size), bool)
        for lm in landmarks[k, b] * size / 224:
            m = _masks(lm, size)
            target |= m[[NAMES.index(r) for r in TARGETS[param]]].any(axis=0)
        coverage = (changed & target).sum() / changed.sum()
        assert coverage >= 0.9, f"{param}, base face {b}, {size} px: only {coverage:.1%} covered"
        assert target.mean() < 0.12, "target regions are too large to make the test meaningful"


def test_left_is_the_persons_left_on_the_image_right(extremes):
    _, landmarks, _ = extremes
    lm = landmarks[0, 0, 0]  # a frontal face
    centre = 224 / 2
    for part in ("eye", "eyebrow", "cheek"):
        left = lm[list(REGIONS.indices[f"left_{part}"]), 0].mean()
        right = lm[list(REGIONS.indices[f"right_{part}"]), 0].mean()
        assert right < centre < left, part
    masks = _masks(lm * 64 / 224, 64)

    def mean_x(region: str) -> float:
        return float(np.nonzero(masks[NAMES.index(region)])[1].mean() + 0.5)

    for part in ("eye", "eyebrow", "cheek"):
        assert mean_x(f"right_{part}") < 32 < mean_x(f"left_{part}"), part


def test_masks_do_not_overlap_and_every_region_has_pixels(extremes):
    _, landmarks, _ = extremes
    for size in (64, 112, 224):
        hulls = region_hulls(landmarks[0, 0, 0] * size / 224, REGIONS, size, MARGIN)
        masks = resolve_overlaps(hulls, NAMES, DEFAULT_PRIORITY)
        assert masks.sum(axis=0).max() == 1
        assert np.array_equal(masks.any(axis=0), hulls.any(axis=0))
        assert (hulls.sum(axis=0) > 1).any(), "the raw hulls should overlap somewhere"
        assert (masks.sum(axis=(1, 2)) > 0).all(), f"an empty region at {size} px"


def test_detection_on_the_stored_face_matches_detection_at_input_size(extremes):
    images, landmarks, score = extremes
    assert np.nanmin(score) > 0.5
    at_input, _ = detect_landmarks(images[0, 0, :1], 112, detect_at="input")
    scaled = landmarks[0, 0, 0] * 112 / 224
    err = np.abs(at_input[0, :, :2] - scaled[:, :2])
    assert np.median(err) < 1.0  # the two agree to about a model-input pixel


def _face_set(folder: Path, images: list[np.ndarray]) -> Path:
    """A manifest as the faces rule writes it, for the given images."""
    (folder / "images").mkdir(parents=True)
    rows = []
    for i, img in enumerate(images, start=1):
        path = folder / "images" / f"face_{i:03d}.png"
        Image.fromarray(img).save(path)
        rows.append({"face_id": i, "file": f"images/{path.name}",
                     "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "source": "import",
                     "source_file": ""})
    pd.DataFrame(rows).to_parquet(folder / "manifest.parquet")
    return folder / "manifest.parquet"


@pytest.fixture(scope="module")
def with_non_faces(tmp_path_factory):
    """Faces 1-4 are synthetic faces, face 5 is plain grey, face 6 is noise."""
    rng = np.random.default_rng(1)
    faces = [render_face(p) for p in 0.5 * sample_parameters(4, rng)]
    grey = np.full((224, 224, 3), 128, np.uint8)
    noise = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    return _face_set(tmp_path_factory.mktemp("faces"), [*faces, grey, noise])


CFG = {"on_missing": "fail", "min_detection_confidence": 0.5, "detect_at": "image"}


def test_fail_names_the_faces_without_a_mesh_and_writes_nothing(with_non_faces, tmp_path):
    out, kept = tmp_path / "landmarks.zarr", tmp_path / "faces_kept.json"
    with pytest.raises(NoFaceMeshError) as err:
        compute_landmarks(with_non_faces, 64, CFG, out, kept)
    msg = str(err.value)
    assert "no face mesh on 2 of 6 faces" in msg
    assert "face 5 (images/face_005.png)" in msg and "face 6 (images/face_006.png)" in msg
    assert "on_missing: drop" in msg
    assert not out.exists() and not kept.exists()


def test_drop_removes_the_faces_and_every_trial_that_shows_them(with_non_faces, tmp_path):
    out, kept = tmp_path / "landmarks.zarr", tmp_path / "faces_kept.json"
    compute_landmarks(with_non_faces, 64, {**CFG, "on_missing": "drop"}, out, kept)
    summary = json.loads(kept.read_text())
    assert summary["dropped"] == [5, 6] and summary["kept"] == [1, 2, 3, 4] and summary["n_dropped"] == 2
    lm = open_zarr(out)
    assert lm["landmarks"].dims == ("face", "point", "xyz") and lm["landmarks"].shape == (4, 478, 3)
    assert list(lm["face"].to_numpy()) == [1, 2, 3, 4]
    pts = lm["landmarks"].to_numpy()
    assert np.isfinite(pts).all() and 0 < pts[..., :2].min() and pts[..., :2].max() < 64

    # Every triplet of the 6 faces judged once: 4 of the 20 avoid faces 5 and 6.
    triplets = np.array([(a, b, c) for c in range(1, 7) for b in range(1, c) for a in range(1, b)])
    cleaned = pd.DataFrame({"head1": triplets[:, 0], "head2": triplets[:, 1], "head3": triplets[:, 2],
                            "head_odd": triplets[:, 0]})
    cleaned.to_parquet(tmp_path / "cleaned.parquet")
    trials = build_triplets(tmp_path / "cleaned.parquet", with_non_faces,
                            {"method": "random", "seed": 0,
                             "fractions": {"train": 0.5, "val": 0.25, "test": 0.25}},
                            tmp_path / "trials.parquet", tmp_path / "triplets.parquet",
                            tmp_path / "splits.json", keep_faces=kept)
    assert len(trials) == 4 and not trials[["head1", "head2", "head3"]].isin([5, 6]).any().any()
    assert list(trials["trial_id"]) == [0, 1, 2, 3]
    splits = json.loads((tmp_path / "splits.json").read_text())
    assert splits["dropped_faces"] == [5, 6] and splits["n_trials_dropped_with_faces"] == 16
    assert splits["n_triplets_dropped_with_faces"] == 16 and splits["n_faces"] == 4

    masks = build_region_masks(out, None, None, MARGIN, tmp_path / "masks.zarr")
    ds = open_zarr(tmp_path / "masks.zarr")
    assert ds["mask"].dims == ("face", "region", "y", "x") and ds["mask"].shape == (4, 12, 64, 64)
    assert ds["mask"].dtype == bool and ds["area"].dims == ("face", "region")
    assert list(ds["region"].to_numpy()) == NAMES
    assert np.array_equal(ds["area"].to_numpy(), ds["mask"].to_numpy().sum(axis=(2, 3)))
    assert ds["mask"].to_numpy().sum(axis=1).max() == 1
    label = ds["label"].to_numpy()
    assert np.array_equal(label >= 0, ds["mask"].to_numpy().any(axis=1))
    assert masks.attrs["priority"] == list(DEFAULT_PRIORITY)


def test_unseen_landmarks_keep_every_face_and_check_the_input_size(tmp_path):
    """The unseen faces' mesh is its own rule (MediaPipe is not in the validity stage's torch env,
    issue 23): every face is kept in render order, a face without a mesh as NaN, and the validity
    stage refuses a store meshed for another input size."""
    import xarray as xr

    from facesimxai.errors import InputError
    from facesimxai.landmarks.mesh import compute_unseen_landmarks
    from facesimxai.validity.run import _unseen_landmarks

    faces = [render_face(p) for p in BASES[:2]]
    images = np.stack([faces[0], np.full_like(faces[0], 128), faces[1]])  # a blank face in the middle
    unseen = tmp_path / "faces.zarr"
    xr.Dataset({"image": (("face", "y", "x", "channel"), images),
                "parameters": (("face", "parameter"), np.zeros((3, len(PARAMETER_NAMES))))}).to_zarr(unseen)
    cfg = {"min_detection_confidence": 0.5, "detect_at": "image"}
    out = tmp_path / "landmarks.zarr"
    compute_unseen_landmarks(unseen, 112, cfg, out)
    store = open_zarr(out)
    assert store["face"].values.tolist() == [1, 2, 3] and store.attrs["input_size"] == 112
    found = np.isfinite(store["landmarks"].values).all(axis=(1, 2))
    assert found.tolist() == [True, False, True]
    expected, _ = detect_landmarks(images[[0, 2]], 112)
    np.testing.assert_array_equal(store["landmarks"].values[found], expected)
    assert _unseen_landmarks(out, 2, 112).shape == (2, N_POINTS, 3)
    with pytest.raises(InputError, match="face mesh in 112 px, but the backbone takes 64 px"):
        _unseen_landmarks(out, 3, 64)
    with pytest.raises(InputError, match="3 unseen faces, interventional.n_faces needs 4"):
        _unseen_landmarks(out, 4, 112)
