"""X-Maps (seed 001, section 3.2): where a verification pair's two images look alike to the model.

Each image is occluded systematically (Algorithm 1: black square patches of several sizes moved by
a stride; the occlusion engine's ``patch_corners``/``occluded_faces``), every occluded version is
embedded once, and the cosine distances between the pair's embeddings are selected by one of
three methods:

1. (Eq. 6) ``D1[i] = mean_j d(F1[i], F2[j])``, ``D2[j] = mean_i d(F1[i], F2[j])``: an occluded
   version of one image against every occluded version of the other;
2. (Eq. 7) ``D1[i] = d(F1[i], N(I2))``, ``D2[j] = d(N(I1), F2[j])``: against the intact other image;
3. (Eq. 8) ``D1 = D2 = d(F1[i], F2[i])``: co-located occlusions of both (identical maps).

Each distance's change from the intact pair's ``d_orig`` weights its patch mask (Eq. 9,
``S = sum_i (d_i - d_orig) M_i / N``), the per-size maps are averaged with 1/p² weights (Eq. 10),
blurred with a Gaussian of sigma = stride and scaled to [-1, 1]. Positive = similar: occluding it
*raised* the distance (the paper's convention; green in ``figures.blend``, Algorithm 2).

The scaling divides by the largest |value| of the map (the paper says only "normalisation to
[-1, 1]"): a min-max rescale would move zero and turn an unimportant region into a similar or
dissimilar one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from facesimxai.explain.occlusion import OcclusionSettings, occluded_faces, patch_corners

METHODS = (1, 2, 3)
#: X-Maps' geometry: 7, 14 and 28 px patches moved by 5 px at 112 px, as fractions of the input.
XMAPS_GEOMETRY = OcclusionSettings()
Embed = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class OccludedEmbeddings:
    """One image's intact embedding and, per patch size, its patch corners and occluded embeddings."""

    intact: np.ndarray  # (D,)
    patches: tuple[int, ...]
    corners: tuple[np.ndarray, ...]  # per size: (N, 2) top-left corners
    embeddings: tuple[np.ndarray, ...]  # per size: (N, D)
    size: int
    stride: int


@torch.no_grad()
def occluded_embeddings(embed: Embed, image: torch.Tensor, fill: torch.Tensor,
                        settings: OcclusionSettings = XMAPS_GEOMETRY, batch_size: int = 256) -> OccludedEmbeddings:
    """Embed ``image`` (C, H, W) and all its occluded versions once; every pair that shows the image
    reuses the result (the cost is images × patches embeddings, not pairs × patches)."""
    size = image.shape[-1]
    sizes, stride = settings.geometry(size)
    corners, embeddings = [], []
    for patch in sizes:
        c = patch_corners(size, patch, stride)
        occ = occluded_faces(image, fill, patch, c)
        embeddings.append(torch.cat([embed(occ[s:s + batch_size]) for s in range(0, len(occ), batch_size)])
                          .double().cpu().numpy())
        corners.append(c)
    intact = embed(image[None]).double().cpu().numpy()[0]
    return OccludedEmbeddings(intact, tuple(sizes), tuple(corners), tuple(embeddings), size, stride)


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 − cosine similarity of the rows of ``a`` and ``b`` (broadcast over leading axes)."""
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return 1.0 - np.sum(a * b, axis=-1)


def distance_sets(f1: np.ndarray, f2: np.ndarray, e1: np.ndarray, e2: np.ndarray,
                  method: int) -> tuple[np.ndarray, np.ndarray]:
    """(D1, D2) of Eqs. 6-8 from occluded embeddings F1, F2 (N, D) and intact embeddings e1, e2 (D,)."""
    if method == 1:
        pairwise = cosine_distance(f1[:, None], f2[None])  # (N1, N2)
        return pairwise.mean(axis=1), pairwise.mean(axis=0)
    if method == 2:
        return cosine_distance(f1, e2[None]), cosine_distance(e1[None], f2)
    if method == 3:
        if f1.shape != f2.shape:
            raise ValueError("X-Maps method 3 needs co-located occlusions: both images at the same size")
        d = cosine_distance(f1, f2)
        return d, d
    raise ValueError(f"X-Maps method must be one of {METHODS}, got {method!r}")


def similarity_map(d: np.ndarray, d_orig: float, corners: np.ndarray, patch: int, size: int) -> np.ndarray:
    """Eq. 9: ``S = sum_i (d_i - d_orig) M_i / N`` over the N patch masks."""
    s = np.zeros((size, size))
    for w, (y, x) in zip(d - d_orig, corners, strict=True):
        s[y:y + patch, x:x + patch] += w
    return s / len(corners)


#: Below this largest |change of cosine distance| a map is rounding noise (distances lie in [0, 2]
#: and are computed in float64): it is returned as zeros instead of being blown up to ±1.
NOISE_FLOOR = 1e-12


def scale_to_unit(s: np.ndarray) -> np.ndarray:
    """Divide by the largest |value| so the map lies in [-1, 1] with zero kept at zero; a map
    whose largest |value| is under ``NOISE_FLOOR`` (an image against itself) becomes zeros."""
    top = np.abs(s).max()
    return s / top if top > NOISE_FLOOR else np.zeros_like(s)


def xmaps(a: OccludedEmbeddings, b: OccludedEmbeddings, method: int, blur: bool = True,
          scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """X-Maps (S̄1, S̄2) of the pair (a, b) by ``method``: Eq. 9 per patch size, Eq. 10 across
    sizes, Gaussian blur with sigma = stride, scaled to [-1, 1] (``scale=False`` keeps Eq. 10's values)."""
    if a.patches != b.patches:
        raise ValueError("both images of a pair must be occluded with the same patch sizes")
    d_orig = float(cosine_distance(a.intact, b.intact))
    out = []
    for side in (0, 1):
        img = a if side == 0 else b
        total = np.zeros((img.size, img.size))
        for k, patch in enumerate(img.patches):
            d1, d2 = distance_sets(a.embeddings[k], b.embeddings[k], a.intact, b.intact, method)
            s = similarity_map(d1 if side == 0 else d2, d_orig, img.corners[k], patch, img.size)
            total += s / (patch**2 * len(img.patches))  # Eq. 10
        if blur:
            total = gaussian_filter(total, sigma=img.stride, mode="nearest")
        out.append(scale_to_unit(total) if scale else total)
    return out[0], out[1]


@torch.no_grad()
def similarity_curves(embed: Embed, faces: tuple[torch.Tensor, torch.Tensor],
                      baselines: tuple[torch.Tensor, torch.Tensor], orders: tuple[np.ndarray, np.ndarray],
                      steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Deletion and insertion curves of a pair's cosine similarity: both images' pixels replaced
    by (or restored from) the baseline in their own ``orders`` (flat indices, most similar
    first), at the same fractions 0 … 1 (steps + 1 points each)."""
    from facesimxai.faithfulness.perturbation import pixel_variants

    (da, ia), (db, ib) = (pixel_variants(f, b, o, steps) for f, b, o in zip(faces, baselines, orders, strict=True))
    ea, eb = embed(torch.cat([da, ia])).double().cpu(), embed(torch.cat([db, ib])).double().cpu()
    sim = torch.nn.functional.cosine_similarity(ea, eb, dim=1).numpy()
    return sim[: steps + 1], sim[steps + 1:]
