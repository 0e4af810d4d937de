"""Unseen synthetic faces: a fresh seeded draw from the face space that neither the backbone nor
any head ever saw, for the probe, the generalisation test and the interventional truth.

Accuracy on trials that share faces with training measures memorisation; these faces are what
"the model learned the observers' strategy" has to be shown on.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import xarray as xr

from facesimxai.data.face_params import PARAMETER_NAMES, sample_parameters
from facesimxai.data.render import RenderSettings
from facesimxai.data.synthetic import render_many
from facesimxai.io import atomic_path, open_zarr

log = logging.getLogger(__name__)


def unseen_parameters(n_faces: int, seed: int) -> np.ndarray:
    """Parameters of the unseen faces, from a seed stream of their own (``[seed, 7]``): disjoint
    draws from the analysis faces (``seed``) and the pretraining identities (``[seed, 1]``)."""
    return sample_parameters(n_faces, np.random.default_rng([seed, 7]))


def render_unseen_set(cfg: dict, image_size: int, out: Path | str, workers: int = 1) -> xr.Dataset:
    """Neutral frontal renders of ``cfg['n_faces']`` new identities → ``faces.zarr`` with
    ``image[face, y, x, channel]`` (uint8) and ``parameters[face, parameter]``; face ids from 1."""
    params = unseen_parameters(cfg["n_faces"], cfg["seed"])
    images = render_many([(p, RenderSettings(), image_size, 0.0, 0) for p in params], workers, "unseen faces")
    ds = xr.Dataset(
        {"image": (("face", "y", "x", "channel"), images),
         "parameters": (("face", "parameter"), params)},
        coords={"face_id": ("face", np.arange(1, len(params) + 1)),
                "parameter": np.array(PARAMETER_NAMES, object)},
        attrs={"source": "synthetic", "seed": cfg["seed"], "image_size": image_size},
    )
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False)
    log.info("rendered %d unseen faces at %d px", len(params), image_size)
    return ds


def load_unseen(path: Path | str) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, H, W, 3) uint8, parameters (n, n_parameters)) ordered by face id."""
    ds = open_zarr(path)
    return ds["image"].to_numpy(), ds["parameters"].to_numpy()
