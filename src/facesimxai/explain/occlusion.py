"""Occlusion maps for triplet decisions, adapted from X-Maps (seed 001, Algorithm 1 and Eqs. 9-10).

X-Maps occludes one image of a verification pair with square patches of several sizes and
weights each patch by the change in the pair's distance. For an odd-one-out triplet we occlude
one face (the target face, or each face for ``positions: all``) and record, per patch:

- the drop of the target logit (positive: the patch was evidence for the choice, the sign
  convention of the LRP stores), which becomes ``relevance``;
- the drop of the cosine similarity between the occluded face's embedding and each of the two
  other faces' (``similarity_drop``), the X-Maps quantity itself.

Patch sizes and stride are fractions of the input size (X-Maps used 7, 14, 28 px and stride 5 at
112 px); the per-size maps are averaged with X-Maps' 1/p² weights and smoothed with a Gaussian
of sigma = stride. A face's occluded versions depend on the face alone, so each is embedded once
and reused by every triplet that shows it: the cost is faces × patches embeddings plus a cheap
decision pass per triplet × patch (``benchmarks/occlusion_cost.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from facesimxai.explain.triplet_function import TripletFunction


@dataclass(frozen=True)
class OcclusionSettings:
    patches: tuple[float, ...] = (7 / 112, 14 / 112, 28 / 112)
    stride: float = 5 / 112
    blur: bool = True

    def geometry(self, size: int) -> tuple[list[int], int]:
        """Patch sizes and stride in pixels for an input of ``size`` pixels."""
        sizes = sorted({max(1, round(f * size)) for f in self.patches})
        return sizes, max(1, round(self.stride * size))


def black_fill(size: int, preprocessing: str) -> torch.Tensor:
    """A black image in the model's input space (X-Maps' patches are black)."""
    from facesimxai.models.vgg import preprocess

    return preprocess(np.zeros((1, size, size, 3), np.uint8), size, preprocessing)[0]


def patch_corners(size: int, patch: int, stride: int) -> np.ndarray:
    """Top-left corners (N, 2) of patches covering the image, the last row/column flush with the edge."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return np.array([(y, x) for y in starts for x in starts])


def occluded_faces(face: torch.Tensor, fill: torch.Tensor, patch: int, corners: np.ndarray) -> torch.Tensor:
    """(N, C, H, W): ``face`` with one patch replaced by ``fill`` (C, H, W) per corner."""
    out = face.unsqueeze(0).repeat(len(corners), 1, 1, 1)
    for i, (y, x) in enumerate(corners):
        out[i, :, y:y + patch, x:x + patch] = fill[:, y:y + patch, x:x + patch]
    return out


def _spread(values: torch.Tensor, corners: np.ndarray, patch: int, size: int) -> torch.Tensor:
    """Eq. 9: each patch's value over its pixels, summed and divided by the number of patches."""
    maps = torch.zeros(values.shape[0], size, size, dtype=values.dtype)
    for i, (y, x) in enumerate(corners):
        maps[:, y:y + patch, x:x + patch] += values[:, i, None, None]
    return maps / len(corners)


def _replaced_logits(fn: TripletFunction, trip: torch.Tensor, slot: torch.Tensor, occ: torch.Tensor,
                     budget: int = 1 << 26) -> torch.Tensor:
    """Logits (R, N, 3) of each triplet with its face at ``slot`` replaced by each of the N
    occluded embeddings; triplets in chunks of at most ``budget`` embedding values."""
    n, k = occ.shape
    step = max(1, budget // (n * 3 * k))
    out = []
    for s in range(0, len(trip), step):
        combo = trip[s:s + step].unsqueeze(1).repeat(1, n, 1, 1)  # (r, N, 3, K)
        r = len(combo)
        combo[torch.arange(r), :, slot[s:s + step]] = occ.unsqueeze(0).expand(r, -1, -1).to(combo)
        out.append(fn.logits(combo.flatten(0, 1)).reshape(r, n, 3).cpu())
    return torch.cat(out)


@torch.no_grad()
def occlusion_maps(fn: TripletFunction, faces: torch.Tensor, heads: np.ndarray, fill: torch.Tensor,
                   settings: OcclusionSettings = OcclusionSettings(), target_pos=None,
                   positions: str = "target", progress=None):
    """Occlusion maps of triplets given as indices into ``faces`` (T, 3).

    Returns (maps, logits, target, similarity_drop): maps (T, H, W) for the target face or
    (T, 3, H, W) for every face; similarity_drop (T, 2, H, W) for the target face against the
    other two faces in slot order (None for ``positions: all``).
    """
    heads = np.asarray(heads)
    size = faces.shape[-1]
    sizes, stride = settings.geometry(size)
    emb = fn.embed(faces)
    trip = emb[torch.from_numpy(heads)]
    logits = fn.logits(trip).cpu()
    target = logits.argmax(1) if target_pos is None else torch.as_tensor(np.asarray(target_pos), dtype=torch.long)
    t_idx = torch.arange(len(heads))
    slots = [0, 1, 2] if positions == "all" else None
    maps = torch.zeros((len(heads), 3, size, size) if slots else (len(heads), size, size))
    sim_drop = None if slots else torch.zeros(len(heads), 2, size, size)
    weight = 1.0 / len(sizes)
    faces_needed = np.unique(heads) if slots else np.unique(heads[t_idx.numpy(), target.numpy()])
    for f in faces_needed if progress is None else progress(faces_needed):
        for patch in sizes:
            corners = patch_corners(size, patch, stride)
            occ = fn.embed(occluded_faces(faces[f], fill, patch, corners))  # (N, K): once per face
            for slot in (slots or [None]):
                rows = np.flatnonzero((heads[:, slot] == f) if slot is not None
                                      else heads[t_idx.numpy(), target.numpy()] == f)
                if slot is None:
                    rows_slot = target[rows]
                else:
                    rows_slot = torch.full((len(rows),), slot, dtype=torch.long)
                if len(rows) == 0:
                    continue
                new = _replaced_logits(fn, trip[rows], rows_slot, occ)
                tgt = target[rows]
                drop = logits[rows, tgt][:, None] - new[torch.arange(len(rows)), :, tgt]
                spread = _spread(drop, corners, patch, size) * weight / patch**2
                if slot is None:
                    maps[rows] += spread
                    others = torch.stack([torch.tensor([p for p in range(3) if p != int(t)]) for t in tgt])
                    for k in range(2):
                        other = trip[rows, others[:, k]]  # (R, K)
                        cos0 = torch.nn.functional.cosine_similarity(trip[rows, tgt], other, dim=-1)
                        cos = torch.nn.functional.cosine_similarity(occ.unsqueeze(0), other.unsqueeze(1), dim=-1)
                        sim = _spread((cos0[:, None] - cos).cpu(), corners, patch, size) * weight / patch**2
                        sim_drop[rows, k] += sim
                else:
                    maps[rows, slot] += spread
    if settings.blur:
        sigma = [0] * (maps.dim() - 2) + [stride, stride]
        maps = torch.from_numpy(gaussian_filter(maps.numpy(), sigma=sigma, mode="nearest"))
        if sim_drop is not None:
            sim_drop = torch.from_numpy(gaussian_filter(sim_drop.numpy(), sigma=[0, 0, stride, stride],
                                                        mode="nearest"))
    return maps, logits, target, sim_drop
