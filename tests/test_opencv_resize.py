"""``faces.resize: facesim3d`` gives FaceSim3D's model input byte for byte: OpenCV's
``cv2.resize(cv2.imread(path), (224, 224))``, checked against outputs recorded with
opencv-python-headless 4.5.5.64, FaceSim3D's pinned version (tests/data/record_opencv_resize.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facesimxai.data.faces import FaceInputError, import_face_folder, load_face_image
from facesimxai.data.opencv_resize import resize_linear_like_opencv

DATA = Path(__file__).parent / "data"


def reference() -> dict:
    return json.loads((DATA / "opencv_resize_reference.json").read_text())

# (source width, height, target width, height): FaceSim3D's 224 from the CFD's 2444×1718 and other
# shapes; an exact 2× downscale (OpenCV switches to INTER_AREA), 3× (stays bilinear), upscaling,
# identity, widths whose 3·w is not a multiple of 16 (the SIMD kernel's tail), tiny images.
CASES = [(2444, 1718, 224, 224), (300, 400, 224, 224), (400, 300, 224, 224), (448, 448, 224, 224),
         (448, 300, 224, 150), (672, 672, 224, 224), (449, 448, 224, 224), (100, 120, 224, 224),
         (224, 224, 224, 224), (245, 615, 177, 256), (52, 455, 227, 32), (640, 480, 112, 112),
         (37, 53, 64, 64), (1, 1, 5, 3), (3, 7, 2, 2)]


def pattern(width: int, height: int) -> np.ndarray:
    """A deterministic uint8 RGB test image from integer arithmetic only (no RNG whose stream could
    change between numpy versions): smooth gradients plus hashed noise, so both flat and busy
    neighbourhoods are resized."""
    y, x, c = np.meshgrid(np.arange(height, dtype=np.int64), np.arange(width, dtype=np.int64),
                          np.arange(3, dtype=np.int64), indexing="ij")
    noise = ((x * 73856093) ^ (y * 19349663) ^ (c * 83492791)) % 61
    smooth = (x * 255 // max(width - 1, 1) + y * 128 // max(height - 1, 1) + c * 40) % 196
    return (smooth + noise).astype(np.uint8)


def sha256(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


@pytest.mark.parametrize("case", CASES, ids=lambda c: "{}x{}-to-{}x{}".format(*c))
def test_resize_equals_the_recorded_opencv_output(case):
    w, h, tw, th = case
    got = resize_linear_like_opencv(pattern(w, h), tw, th)
    assert got.shape == (th, tw, 3)
    assert sha256(got) == reference()["resize"]["{}x{}-to-{}x{}".format(*case)]


def test_a_jpeg_with_an_exif_rotation_loads_as_facesim3d_loads_it(tmp_path):
    """The whole reading path: JPEG decoding, the EXIF orientation cv2.imread applies (the stored
    90×70 image is shown 70×90) and the squash to 224², against cv2's BGR output reversed to RGB."""
    path = DATA / "exif_rotated.jpg"
    assert Image.open(path).getexif()[0x0112] == 6
    for size in (224, 64):
        assert sha256(load_face_image(path, size, "facesim3d")) == reference()["imread_resize"][str(size)]
    (tmp_path / "faces").mkdir()
    (tmp_path / "faces" / "face1.jpg").write_bytes(path.read_bytes())
    table = import_face_folder(tmp_path / "faces", 224, tmp_path / "images", tmp_path / "m.parquet", "facesim3d")
    stored = np.asarray(Image.open(tmp_path / table["file"][0]))  # relative to the manifest
    assert sha256(stored) == reference()["imread_resize"]["224"]


def test_the_default_resize_is_upright_too_but_a_different_input():
    """Both modes apply the EXIF rotation (the upright 70×90 face), and the default crop + Lanczos
    is not FaceSim3D's input on a non-square image: why the option exists."""
    path = DATA / "exif_rotated.jpg"
    crop, squash = load_face_image(path, 224), load_face_image(path, 224, "facesim3d")
    upright = np.asarray(Image.open(path).convert("RGB").transpose(Image.Transpose.ROTATE_270))
    assert upright.shape == (90, 70, 3)
    expected = np.asarray(Image.fromarray(upright).resize((224, 224), Image.Resampling.LANCZOS, box=(0, 10, 70, 80)))
    np.testing.assert_array_equal(crop, expected)
    assert np.abs(crop.astype(int) - squash).mean() > 2


def test_the_resize_mode_and_16_bit_images_are_refused_in_one_line(tmp_path):
    Image.fromarray(np.full((8, 8), 4000, np.uint16)).save(tmp_path / "deep.png")
    with pytest.raises(FaceInputError, match=r"deep\.png: I;16 images .* faces\.resize: facesim3d"):
        load_face_image(tmp_path / "deep.png", 224, "facesim3d")
    with pytest.raises(FaceInputError, match="config key faces.resize: 'cubic' is not one of"):
        load_face_image(tmp_path / "deep.png", 224, "cubic")
