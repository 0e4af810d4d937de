"""Region masks: the convex hull of each region's landmarks, rasterised at model-input size.

A pixel belongs to a hull when its centre (``j + 0.5``, ``i + 0.5`` in the landmark pixel
frame) lies inside it or within ``regions.margin`` pixels of it (default 1). The margin is there
because the model sees each face through a resize that spreads every edge over about one
input pixel: without it, the anti-aliased rim of a drawn part (and the relevance on it) falls
just outside its own hull, most visibly at 64-112 px.

Hulls of neighbouring regions overlap (the thesis left that unresolved and counted such pixels
twice); here each pixel goes to the first region of the priority order (``regions.priority``),
so no pixel is in two masks. The raw hulls are kept too.

Store (``results/regions/masks.zarr``):

============================== ==========================================================
``mask[face,region,y,x]``      bool, after the overlap policy (at most one region a pixel)
``hull[face,region,y,x]``      bool, the raw convex hulls (may overlap)
``label[face,y,x]``            int8, index of the pixel's region in ``region``, −1 = none
``area[face,region]``          int32, pixels of ``mask``
``hull_area[face,region]``     int32, pixels of ``hull``
``face``, ``region``           face_id (kept faces) and the 12 region names in thesis order
============================== ==========================================================
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.path import Path as MplPath
from scipy.spatial import ConvexHull, QhullError

from facesimxai.errors import InputError
from facesimxai.io import atomic_path, open_zarr
from facesimxai.landmarks.region_definitions import RegionSet, check_priority, load_regions

log = logging.getLogger(__name__)


def hull_mask(points: np.ndarray, size: int, margin: float = 0.0) -> np.ndarray:
    """Pixels of a ``size``² grid whose centres lie in the convex hull of ``points`` (k, 2)
    or within ``margin`` pixels of it."""
    out = np.zeros((size, size), bool)
    pts = np.asarray(points, float)[:, :2]
    if len(pts) < 3 or not np.isfinite(pts).all():
        return out
    try:
        poly = pts[ConvexHull(pts).vertices]
    except QhullError:  # collinear points: no area
        return out
    x0, y0 = np.clip(np.floor(poly.min(0) - margin).astype(int), 0, size)
    x1, y1 = np.clip(np.ceil(poly.max(0) + margin).astype(int) + 1, 0, size)
    if x1 <= x0 or y1 <= y0:
        return out
    yy, xx = np.mgrid[y0:y1, x0:x1]
    centres = np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], axis=1)
    inside = MplPath(np.vstack([poly, poly[:1]]), closed=True).contains_points(centres)
    if margin > 0:
        inside |= _distance_to_polygon(centres, poly) <= margin
    out[y0:y1, x0:x1] = inside.reshape(yy.shape)
    return out


def _distance_to_polygon(p: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Distance of points (m, 2) to the closed polygon's boundary (k vertices)."""
    a, b = poly, np.roll(poly, -1, axis=0)
    d = b - a
    t = np.clip(np.einsum("mkj,kj->mk", p[:, None] - a[None], d) / np.maximum((d * d).sum(1), 1e-12),
                0, 1)
    closest = a[None] + t[..., None] * d[None]
    return np.sqrt(((p[:, None] - closest) ** 2).sum(-1)).min(axis=1)


def region_hulls(landmarks: np.ndarray, regions: RegionSet, size: int,
                 margin: float = 0.0) -> np.ndarray:
    """Raw hulls of one face's landmarks (478, 2+): (n_regions, size, size) bool."""
    return np.stack([hull_mask(landmarks[list(regions.indices[name]), :2], size, margin)
                     for name in regions.names])


def resolve_overlaps(hulls: np.ndarray, names: Sequence[str], priority: Sequence[str]) -> np.ndarray:
    """Give each pixel to the first region in ``priority`` whose hull contains it."""
    masks = np.zeros_like(hulls)
    taken = np.zeros(hulls.shape[1:], bool)
    for name in priority:
        r = list(names).index(name)
        masks[r] = hulls[r] & ~taken
        taken |= hulls[r]
    return masks


def build_region_masks(landmarks_store: Path | str, regions_file: Path | str | None,
                       priority: Sequence[str] | None, margin: float, out: Path | str) -> xr.Dataset:
    """Rule ``region_masks``: hulls and priority-resolved masks of every kept face."""
    regions = load_regions(regions_file)
    order = check_priority(priority)
    lm = open_zarr(landmarks_store)
    size = int(lm.attrs["input_size"])
    points = lm["landmarks"].to_numpy()
    hulls = np.stack([region_hulls(p, regions, size, margin) for p in points])
    masks = np.stack([resolve_overlaps(h, regions.names, order) for h in hulls])
    label = np.where(masks.any(axis=1), masks.argmax(axis=1), -1).astype(np.int8)
    area = masks.sum(axis=(2, 3)).astype(np.int32)
    face_ids = lm["face"].to_numpy()
    empty = [(int(face_ids[f]), regions.names[r]) for f, r in zip(*np.nonzero(area == 0), strict=True)]
    if empty:
        log.warning("%d face/region masks are empty at %d px (first: face %d, %s)",
                    len(empty), size, *empty[0])
    dims = ("face", "region", "y", "x")
    ds = xr.Dataset(
        {"mask": (dims, masks), "hull": (dims, hulls), "label": (("face", "y", "x"), label),
         "area": (("face", "region"), area),
         "hull_area": (("face", "region"), hulls.sum(axis=(2, 3)).astype(np.int32))},
        coords={"face": face_ids, "region": np.array(regions.names, object),
                "y": np.arange(size), "x": np.arange(size)},
        attrs={"input_size": size, "priority": list(order), "regions_file": Path(regions.path).name,
               "regions_sha256": regions.sha256, "convention": "left/right = the person's own; "
               "left is on the image's right", "margin": float(margin),
               "pixel_rule": "pixel centre inside the convex hull or within `margin` pixels of it"},
    )
    for name in ("mask", "hull"):
        ds[name].encoding["chunks"] = (1, len(regions.names), size, size)
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False)
    log.info("region masks of %d faces at %d px; mean area per region: %s", len(points), size,
             dict(zip(regions.names, area.mean(axis=0).round(1).tolist(), strict=True)))
    return ds


class MaskSizeError(InputError):
    """Region masks drawn at another size than the model input."""


def load_region_masks(masks: Path | str, face_ids: np.ndarray, size: int) -> tuple[np.ndarray, list[str]]:
    """Masks (faces, regions, H, W) in manifest order; all False for a face the landmarks stage
    dropped (``landmarks.on_missing: drop`` also drops its trials, so it is never explained)."""
    mk = open_zarr(masks)
    if int(mk.attrs["input_size"]) != size:
        raise MaskSizeError(f"{masks}: region masks are {mk.attrs['input_size']} px, the model input is {size} px")
    have = {int(f): i for i, f in enumerate(mk["face"].to_numpy())}
    src = mk["mask"].to_numpy()
    arr = np.zeros((len(face_ids), *src.shape[1:]), bool)
    for j, f in enumerate(face_ids):
        if int(f) in have:
            arr[j] = src[have[int(f)]]
    return arr, [str(r) for r in mk["region"].to_numpy()]
