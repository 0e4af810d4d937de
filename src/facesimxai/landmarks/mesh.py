"""MediaPipe face mesh (478 points) on every analysis face, in model-input pixels.

MediaPipe 0.10.21's legacy ``solutions.face_mesh`` (``static_image_mode=True``,
``refine_landmarks=True``) is the only offline release with the model in the wheel. By default it
runs on the stored face (``image_size``, 224 px) and the normalised coordinates are scaled to the
model input (``backbone.input_size``): the model input is the same square face resized, so the
scaling is exact, and detection does not depend on how small the model input is (MediaPipe is
tuned for larger images; the synthetic faces are found even at 64 px, real photos less surely).
``landmarks.detect_at: input`` runs it on the resized face instead, as the thesis did at 224.

Store (``results/landmarks/landmarks.zarr``), kept faces only; ``results/unseen/landmarks.zarr``
has the same layout for the unseen faces, all kept (NaN landmarks where no mesh was found):

============================= ============================================================
``landmarks[face,point,xyz]`` float32, model-input pixels; x right, y down, origin at the
                              top-left image corner (pixel ``j`` spans [j, j+1)); z is
                              MediaPipe's relative depth in the same pixel scale
``score[face]``               face-detector confidence (BlazeFace short range), NaN if the
                              detector alone missed a face the mesh found
``tesselation[edge,end]``     int16, MediaPipe's FACEMESH_TESSELATION (point pairs), so
                              figures can draw the mesh without importing MediaPipe
``face``                      face_id (1-based, as the manifest)
============================= ============================================================
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from facesimxai.data.faces import load_faces, resize_square
from facesimxai.errors import InputError
from facesimxai.io import atomic_path, open_zarr, write_json
from facesimxai.landmarks.region_definitions import N_POINTS

log = logging.getLogger(__name__)


class NoFaceMeshError(InputError):
    """MediaPipe found no face mesh on some faces; the message lists them."""


def detect_landmarks(images: np.ndarray, input_size: int, min_detection_confidence: float = 0.5,
                     detect_at: str = "image") -> tuple[np.ndarray, np.ndarray]:
    """Face mesh of each face: (landmarks (n, 478, 3) in ``input_size`` pixels, score (n,)).

    Faces without a mesh get NaN landmarks and NaN score. ``detect_at`` is ``image`` (run on the
    images as given) or ``input`` (resize them to ``input_size`` first).
    """
    os.environ.setdefault("GLOG_minloglevel", "2")
    import mediapipe as mp

    if detect_at not in ("image", "input"):
        raise ValueError(f"detect_at must be 'image' or 'input', got {detect_at!r}")
    if detect_at == "input":
        images = resize_square(images, input_size)
    n = len(images)
    landmarks = np.full((n, N_POINTS, 3), np.nan, np.float32)
    score = np.full(n, np.nan, np.float32)
    with mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, refine_landmarks=True, max_num_faces=1,
        min_detection_confidence=min_detection_confidence,
    ) as mesh, mp.solutions.face_detection.FaceDetection(
        model_selection=0, min_detection_confidence=min_detection_confidence,
    ) as detector:
        for i, img in enumerate(images):
            img = np.ascontiguousarray(img[..., :3], dtype=np.uint8)
            found = mesh.process(img).multi_face_landmarks
            if not found:
                continue
            pts = found[0].landmark
            if len(pts) != N_POINTS:
                raise RuntimeError(f"MediaPipe returned {len(pts)} landmarks, expected {N_POINTS}")
            # Normalised coordinates are fractions of the (square) image side; z uses the same
            # scale as x. Multiplying by the input side gives model-input pixels.
            landmarks[i] = np.array([(p.x, p.y, p.z) for p in pts], np.float32) * input_size
            det = detector.process(img).detections
            if det:
                score[i] = max(d.score[0] for d in det)
    return landmarks, score


def _describe_missing(face_ids: Sequence[int], files: Sequence[str]) -> str:
    shown = [f"face {f} ({name})" for f, name in zip(face_ids, files, strict=True)]
    return ", ".join(shown[:20]) + (f" and {len(shown) - 20} more" if len(shown) > 20 else "")


def compute_landmarks(manifest: Path | str, input_size: int, cfg: dict, landmarks_out: Path | str,
                      kept_out: Path | str) -> xr.Dataset:
    """Rule ``landmarks``: mesh every face of the manifest; fail or drop faces without one.

    ``cfg`` is the config section ``landmarks`` (``on_missing``, ``min_detection_confidence``,
    ``detect_at``). ``kept_out`` (JSON) lists kept and dropped face ids; the triplets rule uses it
    to remove every trial that shows a dropped face.
    """
    table, images = load_faces(manifest)
    face_ids = table["face_id"].to_numpy(np.int64)
    landmarks, score = detect_landmarks(images, input_size, cfg["min_detection_confidence"],
                                        cfg["detect_at"])
    found = ~np.isnan(landmarks).any(axis=(1, 2))
    missing = face_ids[~found]
    source = table["source_file"].fillna("") if "source_file" in table else pd.Series([""] * len(table))
    files = [f"{f}, from {src}" if src else str(f)
             for f, src in zip(table["file"], source, strict=True)]
    files = [f for f, ok in zip(files, found, strict=True) if not ok]
    if len(missing) and cfg["on_missing"] == "fail":
        raise NoFaceMeshError(
            f"MediaPipe found no face mesh on {len(missing)} of {len(face_ids)} faces: "
            f"{_describe_missing(missing.tolist(), files)}. Check these images, or set "
            f"landmarks.on_missing: drop to remove them and every trial that contains them.")
    if len(missing):
        log.warning("no face mesh on %d of %d faces, dropped with their trials: %s",
                    len(missing), len(face_ids), _describe_missing(missing.tolist(), files))
    if found.sum() < 3:
        raise NoFaceMeshError(f"only {int(found.sum())} of {len(face_ids)} faces have a face mesh; "
                              "at least 3 are needed for a triplet")
    detected_at = input_size if cfg["detect_at"] == "input" else images.shape[1]
    ds = _write_store(face_ids[found], landmarks[found], score[found], input_size, detected_at,
                      cfg["min_detection_confidence"], landmarks_out)
    write_json({"on_missing": cfg["on_missing"], "n_faces": len(face_ids), "n_kept": int(found.sum()),
                "n_dropped": len(missing), "kept": face_ids[found].tolist(),
                "dropped": missing.tolist(), "dropped_files": files}, kept_out)
    log.info("face mesh on %d of %d faces (input %d px); %d dropped", found.sum(), len(face_ids),
             input_size, len(missing))
    return ds


def _write_store(face_ids: np.ndarray, landmarks: np.ndarray, score: np.ndarray, input_size: int,
                 detected_at: int, min_confidence: float, out: Path | str) -> xr.Dataset:
    """Write the landmark store described in the module docstring (atomically)."""
    # Strings as object arrays: zarr v3 stores them as variable-length UTF-8 (no warning).
    ds = xr.Dataset(
        {"landmarks": (("face", "point", "xyz"), landmarks),
         "score": ("face", score),
         "tesselation": (("edge", "end"), tesselation())},
        coords={"face": face_ids, "point": np.arange(N_POINTS), "xyz": np.array(["x", "y", "z"], object)},
        attrs={"input_size": int(input_size), "detected_at_size": int(detected_at),
               "units": "model-input pixels; origin top-left corner, x right, y down",
               "min_detection_confidence": float(min_confidence),
               "mediapipe": _mediapipe_version(), "refine_landmarks": 1},
    )
    ds["landmarks"].encoding["chunks"] = (max(1, min(256, len(face_ids))), N_POINTS, 3)
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False)
    return ds


def compute_unseen_landmarks(unseen: Path | str, input_size: int, cfg: dict, landmarks_out: Path | str) -> xr.Dataset:
    """Rule ``unseen_landmarks``: the face mesh of every unseen face, for the explainer validity.

    Its own rule because MediaPipe lives in ``envs/landmarks.yaml`` and the validity stage in
    ``envs/torch.yaml``. The store has the main store's layout, but keeps every face (face ids
    1..n in render order): a face without a mesh has NaN landmarks, and the validity stage
    leaves out the trials that show it.
    """
    from facesimxai.data.unseen import load_unseen

    images, _ = load_unseen(unseen)
    landmarks, score = detect_landmarks(images, input_size, cfg["min_detection_confidence"], cfg["detect_at"])
    found = np.isfinite(landmarks).all(axis=(1, 2))
    log.info("face mesh on %d of %d unseen faces (input %d px)", found.sum(), len(images), input_size)
    detected_at = input_size if cfg["detect_at"] == "input" else images.shape[1]
    return _write_store(np.arange(1, len(images) + 1), landmarks, score, input_size, detected_at,
                        cfg["min_detection_confidence"], landmarks_out)


def compute_store_landmarks(faces: Path | str, input_size: int, cfg: dict, landmarks_out: Path | str) -> xr.Dataset:
    """Rule ``verification_landmarks``: the face mesh of every image of a store with
    ``image[image, y, x, channel]`` (ids 0..n-1 in store order; NaN where none is found)."""
    images = open_zarr(faces)["image"].to_numpy()
    landmarks, score = detect_landmarks(images, input_size, cfg["min_detection_confidence"], cfg["detect_at"])
    log.info("face mesh on %d of %d images (input %d px)", np.isfinite(score).sum(), len(images), input_size)
    detected_at = input_size if cfg["detect_at"] == "input" else images.shape[1]
    return _write_store(np.arange(len(images)), landmarks, score, input_size, detected_at,
                        cfg["min_detection_confidence"], landmarks_out)


def tesselation() -> np.ndarray:
    """MediaPipe's mesh triangles as sorted point pairs (edges, 2), for drawing the mesh."""
    import mediapipe as mp

    return np.array(sorted(tuple(sorted(e)) for e in mp.solutions.face_mesh.FACEMESH_TESSELATION),
                    np.int16)


def _mediapipe_version() -> str:
    import mediapipe as mp

    return str(mp.__version__)
