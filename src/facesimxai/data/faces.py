"""The analysis face set: synthetic renders or an imported folder, with one manifest.

Manifest (``results/faces/manifest.parquet``), one row per face:

=========== ======== ===========================================================
face_id     int      1-based id, as FaceSim3D's head ids
file        str      image path relative to the manifest's folder (PNG, RGB)
sha256      str      checksum of that PNG
source      str      ``synthetic`` or ``import``
source_file str      original file (import) or empty (synthetic)
p_<name>    float    generating parameters (synthetic only)
=========== ======== ===========================================================
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from PIL import Image, ImageOps, UnidentifiedImageError

from facesimxai.data.face_params import PARAMETER_NAMES, parameter_table
from facesimxai.data.opencv_resize import resize_linear_like_opencv
from facesimxai.data.synthetic import Augmentation, analysis_faces, pretrain_renders
from facesimxai.errors import InputError
from facesimxai.io import atomic_path, write_csv, write_parquet

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm"}


class FaceInputError(InputError):
    """A face folder or image that cannot be used; the message names the file."""


def _png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def _write_images(images: np.ndarray, images_dir: Path) -> pd.DataFrame:
    """Write faces as face_001.png…; return face_id, file, sha256 (atomic for the folder)."""
    rows = []
    with atomic_path(images_dir) as tmp:
        tmp.mkdir()
        for i, img in enumerate(images, start=1):
            data = _png_bytes(img)
            name = f"face_{i:03d}.png"
            (tmp / name).write_bytes(data)
            rows.append({"face_id": i, "file": f"{images_dir.name}/{name}",
                         "sha256": hashlib.sha256(data).hexdigest()})
    return pd.DataFrame(rows)


def render_synthetic_faces(n_faces: int, seed: int, image_size: int, images_dir: Path | str,
                           manifest: Path | str, parameter_regions: Path | str,
                           workers: int = 1) -> pd.DataFrame:
    """Render the synthetic analysis faces, their manifest and the parameter→region table."""
    images, params = analysis_faces(n_faces, seed, image_size, workers)
    table = _write_images(images, Path(images_dir))
    table["source"] = "synthetic"
    table["source_file"] = ""
    for j, name in enumerate(PARAMETER_NAMES):
        table[f"p_{name}"] = params[:, j]
    write_csv(parameter_table(), parameter_regions)
    write_parquet(table, manifest)
    log.info("rendered %d synthetic faces at %d px", n_faces, image_size)
    return table


def resize_square(images: np.ndarray, size: int) -> np.ndarray:
    """Resize (n, H, H, 3) uint8 faces to ``size``² as the models do (PIL bilinear)."""
    if images.shape[1] == size and images.shape[2] == size:
        return images
    return np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.Resampling.BILINEAR))
                     for im in images])


def _natural_key(path: Path):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


RESIZE_MODES = ("crop_lanczos", "facesim3d")


def load_face_image(path: Path, size: int, resize: str = "crop_lanczos") -> np.ndarray:
    """Read any common image format, upright by its EXIF orientation, and bring it to ``size``²
    RGB (config key ``faces.resize``).

    ``crop_lanczos`` centre-crops to a square and resizes with Lanczos (no distortion, little
    aliasing); ``facesim3d`` squashes the whole image as FaceSim3D's ``cv2.resize`` does, byte for
    byte, so that the model sees exactly the input the thesis's models saw.
    """
    if resize not in RESIZE_MODES:
        raise FaceInputError(f"config key faces.resize: {resize!r} is not one of {', '.join(RESIZE_MODES)}")
    try:
        with Image.open(path) as im:
            im.load()
            # cv2.imread maps 16-bit samples to 8 bits, which has no exact Pillow counterpart:
            # such files are refused, not guessed.
            if resize == "facesim3d" and im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
                raise FaceInputError(f"{path}: {im.mode} images (16-bit or float) are not supported with "
                                     "faces.resize: facesim3d; convert them to 8-bit")
            # the orientation every viewer shows (and cv2.imread applies): a photo's EXIF rotation
            rgb = ImageOps.exif_transpose(im).convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise FaceInputError(f"{path}: not a readable image ({exc})") from exc
    if resize == "facesim3d":
        return resize_linear_like_opencv(np.asarray(rgb), size, size)
    w, h = rgb.size
    s = min(w, h)
    box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
    return np.asarray(rgb.resize((size, size), Image.Resampling.LANCZOS, box=box))


def import_face_folder(folder: Path | str, image_size: int, images_dir: Path | str,
                       manifest: Path | str, resize: str = "crop_lanczos") -> pd.DataFrame:
    """Import a folder of face images; ids follow the natural sort order of file names.

    Every file in the folder must be an image (hidden files are ignored); identical faces are
    refused because two ids for one face would corrupt every triplet that contains them.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FaceInputError(f"face folder {folder} does not exist (config key faces.folder)")
    files = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
                   key=_natural_key)
    if not files:
        raise FaceInputError(f"face folder {folder} is empty")
    unknown = [p.name for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
    if unknown:
        raise FaceInputError(f"face folder {folder} holds non-image files: {', '.join(unknown[:5])}")
    images, seen = [], {}
    for path in files:
        img = load_face_image(path, image_size, resize)
        digest = hashlib.sha256(img.tobytes()).hexdigest()
        if digest in seen:
            raise FaceInputError(f"duplicate face: {path} has the same pixels as {seen[digest]}")
        seen[digest] = path
        images.append(img)
    table = _write_images(np.stack(images), Path(images_dir))
    table["source"] = "import"
    table["source_file"] = [str(p) for p in files]
    write_parquet(table, manifest)
    log.info("imported %d faces from %s (faces.resize: %s)", len(files), folder, resize)
    return table


def read_manifest(path: Path | str) -> pd.DataFrame:
    return pd.read_parquet(path)


def trial_face_rows(face_ids: Sequence[int], trials: pd.DataFrame) -> np.ndarray:
    """(T, 3) rows of each trial's faces (head1..head3) in the manifest's image array."""
    index = {int(f): i for i, f in enumerate(face_ids)}
    heads = trials[["head1", "head2", "head3"]].to_numpy()
    return np.vectorize(index.__getitem__, otypes=[np.int64])(heads) if len(heads) else np.zeros((0, 3), np.int64)


def load_faces(manifest: Path | str) -> tuple[pd.DataFrame, np.ndarray]:
    """Manifest plus the images as an (n, H, W, 3) uint8 array, checked against their sha256."""
    manifest = Path(manifest)
    table = read_manifest(manifest)
    images = []
    for row in table.itertuples():
        path = manifest.parent / row.file
        if not path.is_file():
            raise FaceInputError(f"{path}: face image listed in {manifest} (face_id {row.face_id}) is missing; "
                                 "restore it or rebuild the faces (snakemake --forcerun render_faces or import_faces)")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != row.sha256:
            raise FaceInputError(f"{path}: checksum differs from {manifest}; re-run the faces rule")
        images.append(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    return table, np.stack(images)


def render_pretrain_set(cfg: dict, image_size: int, out: Path | str, workers: int = 1) -> None:
    """Write augmented pretraining renders to a Zarr store (``image[render, y, x, channel]``)."""
    images, identity, params, render_params = pretrain_renders(
        cfg["n_identities"], cfg["renders_per_identity"], cfg["seed"], image_size,
        Augmentation.from_config(cfg["augment"]), workers)
    ds = xr.Dataset(
        {"image": (("render", "y", "x", "channel"), images),
         "identity": ("render", identity),
         "parameters": (("identity_id", "parameter"), params),
         "render_parameters": (("render", "parameter"), render_params)},
        # Strings as object arrays: zarr v3 stores them as variable-length UTF-8, which has a
        # specification (fixed-width numpy strings do not, and warn).
        coords={"render": np.arange(len(images)), "channel": np.array(["R", "G", "B"], object),
                "parameter": np.array(PARAMETER_NAMES, object), "identity_id": np.arange(len(params))},
        attrs={"source": "synthetic", "seed": cfg["seed"], "image_size": image_size},
    )
    ds["image"].encoding["chunks"] = (min(256, len(images)), image_size, image_size, 3)
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False)
    log.info("rendered %d pretrain images of %d identities", len(images), len(params))
