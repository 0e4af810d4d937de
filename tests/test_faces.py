"""Face folder import and the manifest."""

import hashlib

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from facesimxai.data.faces import FaceInputError, import_face_folder, load_faces, render_synthetic_faces
from facesimxai.data.render import render_face


def _face(seed: int) -> np.ndarray:
    return render_face(np.random.default_rng(seed).uniform(-1, 1, 17), size=96)


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "faces"
    d.mkdir()
    Image.fromarray(_face(1)).save(d / "face10.jpg", quality=95)
    Image.fromarray(_face(2)).resize((120, 96)).save(d / "face2.png")  # not square
    Image.fromarray(_face(3)).save(d / "face1.bmp")
    return d


def test_import_orders_naturally_and_resizes(folder, tmp_path):
    out = tmp_path / "out"
    table = import_face_folder(folder, 64, out / "images", out / "manifest.parquet")
    assert table["face_id"].tolist() == [1, 2, 3]
    assert [s.split("/")[-1] for s in table["source_file"]] == ["face1.bmp", "face2.png", "face10.jpg"]
    manifest, images = load_faces(out / "manifest.parquet")
    assert images.shape == (3, 64, 64, 3)
    data = (out / manifest["file"].iloc[0]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == manifest["sha256"].iloc[0]


def test_synthetic_manifest_carries_parameters(tmp_path):
    table = render_synthetic_faces(3, 1, 64, tmp_path / "images", tmp_path / "m.parquet",
                                   tmp_path / "regions.csv")
    assert table.filter(like="p_").shape == (3, 17)
    assert pd.read_csv(tmp_path / "regions.csv").shape[0] == 17


def _fails(folder, tmp_path, match):
    manifest = tmp_path / "out" / "manifest.parquet"
    with pytest.raises(FaceInputError, match=match):
        import_face_folder(folder, 64, tmp_path / "out" / "images", manifest)
    assert not manifest.exists() and not (tmp_path / "out" / "images").exists()


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    _fails(tmp_path / "empty", tmp_path, "is empty")


def test_missing_folder(tmp_path):
    _fails(tmp_path / "nowhere", tmp_path, r"does not exist \(config key faces.folder\)")


def test_non_image_file(folder, tmp_path):
    (folder / "notes.txt").write_text("hello")
    _fails(folder, tmp_path, "non-image files: notes.txt")


def test_unreadable_image(folder, tmp_path):
    (folder / "broken.png").write_bytes(b"not a png at all")
    _fails(folder, tmp_path, r"broken.png: not a readable image")


def test_duplicate_face(folder, tmp_path):
    Image.fromarray(_face(3)).save(folder / "copy.bmp")
    _fails(folder, tmp_path, r"duplicate face: .*face1.bmp has the same pixels as .*copy.bmp")


def test_tampered_image_is_detected(folder, tmp_path):
    out = tmp_path / "out"
    table = import_face_folder(folder, 64, out / "images", out / "manifest.parquet")
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(out / table["file"].iloc[1])
    with pytest.raises(FaceInputError, match="checksum differs"):
        load_faces(out / "manifest.parquet")
