"""Region Shapley values of a triplet decision: players are facial regions, removed in all three faces.

A pixel map of one face cannot carry a decision that compares three faces. Here the players are
the 12 landmark regions plus the rest of the image; a coalition keeps its players' pixels and
pastes a reference (synthetic: the mean-parameter face; real data: a configurable reference)
into every other player's pixels, **in all three faces at once**. The value of a coalition is
the model's contrastive decision (target logit minus the mean of the other two) on the pasted
triplet; its Shapley values split the decision's change from the all-reference triplet among
the regions.

Region edges are feathered (``feather``): each player's mask is Gaussian-blurred and the masks are
renormalised to sum to one at every pixel, so a coalition blends face and reference smoothly
while v(all) is still the intact face and v(none) the reference (efficiency holds). A hard paste
draws edges that no face has, and a convolutional backbone responds to them: on the demo's
backbone (fc7 feature-distance decision, unseen faces) hard masks agree with the renderer truth at
within-trial ρ 0.47 and σ = 3 px at 112 px (``feather`` 0.027 of the side) at 0.60, while on a
decision that is a sum over pixels (no edge response) both agree at 0.89–0.90
(``benchmarks/region_shapley_feather.py``). Smooth masks against such artefacts are also what
Fong & Vedaldi's meaningful perturbations use (ICCV 2017).

Cost: each face is embedded once per coalition under the frozen core and bridge (the only
costly call); decisions are cheap passes on cached embeddings. Exact values need 2^P
coalitions per face; otherwise antithetic permutation sampling (each permutation and its
reverse) with the **same permutations for every trial**, so a face's coalition images are
embedded once and reused by every trial that shows it. Each permutation's marginal gains sum
exactly to v(all) − v(none), so sampled values are efficient too; the standard error is over
antithetic pairs. Why not Captum's ``ShapleyValueSampling``: it perturbs one input tensor per
call and cannot share coalition embeddings across the trials that show a face, which is what
makes this affordable (≈ 12 · permutations embeddings per face instead of per trial).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from facesimxai.explain.triplet_function import TripletFunction
from facesimxai.shapley import exact_shapley

#: Player holding every pixel outside the 12 regions (hair, outline, background) ...
REST = "rest"
#: ... or, split by the face oval, the face outside the regions and everything outside the face.
SPLIT_REST = ("face_rest", "outside_face")
#: Gaussian σ of the player edges as a fraction of the image side (3 px at 112 px), chosen on the
#: backbone-distance decision of ``benchmarks/region_shapley_feather.py``, not on a gated model.
FEATHER = 0.027


def region_players(masks: np.ndarray, face: np.ndarray | None = None) -> np.ndarray:
    """(F, R, H, W) region masks → players (F, R + 1, H, W): the regions, then the rest; with a
    face mask (F, H, W) the rest is split into the face outside the regions and outside the face
    (R + 2 players)."""
    masks = np.asarray(masks, bool)
    rest = ~masks.any(axis=1, keepdims=True)
    if face is None:
        return np.concatenate([masks, rest], axis=1)
    face = np.asarray(face, bool)[:, None]
    return np.concatenate([masks, rest & face, rest & ~face], axis=1)


def contrastive_logit(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Target logit minus the mean of the other two: (..., 3) logits, (...) targets → (...)."""
    t = logits.gather(-1, target[..., None])[..., 0]
    return t - (logits.sum(-1) - t) / 2


@dataclass(frozen=True)
class ShapleySettings:
    """``exact`` when 2^players ≤ ``max_exact_coalitions``, else ``n_permutations`` sampled
    permutations (rounded up to antithetic pairs), seeded; ``feather``: σ of the player edges as
    a fraction of the image side (0: hard masks)."""

    n_permutations: int = 64
    max_exact_coalitions: int = 1024
    seed: int = 0
    feather: float = FEATHER


def feathered_players(players: np.ndarray, feather: float) -> np.ndarray:
    """(P, H, W) bool players → float weights that sum to one at every pixel: each mask blurred
    with σ = ``feather`` · side, then renormalised (0: the hard masks as floats)."""
    weights = np.asarray(players, np.float64)
    if feather > 0:
        sigma = feather * players.shape[-1]
        weights = np.stack([gaussian_filter(w, sigma, mode="nearest") for w in weights])
        weights /= weights.sum(0, keepdims=True)  # every pixel lies in one player: the sum is > 0
    return weights


def sampled_coalitions(n_players: int, n_permutations: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Antithetic permutations (2·⌈n/2⌉, P) and the coalition bit mask before each step (…, P + 1)."""
    rng = np.random.default_rng(seed)
    half = [rng.permutation(n_players) for _ in range((n_permutations + 1) // 2)]
    perms = np.array([p for q in half for p in (q, q[::-1])])
    bits = np.zeros((len(perms), n_players + 1), np.int64)
    for i, p in enumerate(perms):
        bits[i, 1:] = np.cumsum(1 << p)
    return perms, bits


def coalition_images(face: torch.Tensor, reference: torch.Tensor, players: torch.Tensor,
                     coalitions: np.ndarray) -> torch.Tensor:
    """(N, C, H, W): ``face`` where the coalition's players are present, ``reference`` elsewhere.

    ``players`` (P, H, W): bool masks (a hard paste) or weights summing to one per pixel (a
    blend, ``feathered_players``); ``coalitions`` (N,) integer bit masks."""
    bits = torch.as_tensor(((np.asarray(coalitions)[:, None] >> np.arange(players.shape[0])) & 1).astype(np.float32))
    keep = (bits @ players.reshape(players.shape[0], -1).float()).reshape(-1, 1, *players.shape[1:])
    if players.dtype == torch.bool:
        return torch.where(keep > 0, face.unsqueeze(0), reference.unsqueeze(0))
    keep = keep.to(face.dtype)
    return keep * face.unsqueeze(0) + (1 - keep) * reference.unsqueeze(0)


def coalition_embeddings(fn: TripletFunction, faces: torch.Tensor, references: torch.Tensor,
                         players: np.ndarray, coalitions: np.ndarray, face_rows: np.ndarray,
                         progress=lambda x: x, feather: float = 0.0) -> dict[int, torch.Tensor]:
    """Embedding (N, K) of each face in ``face_rows`` under every coalition, embedded once."""
    out = {}
    for f in progress(list(face_rows)):
        masks = torch.as_tensor(feathered_players(players[f], feather) if feather > 0 else players[f])
        imgs = coalition_images(faces[f], references[f], masks, coalitions)
        out[int(f)] = fn.embed(imgs).cpu()
    return out


def _values(fn: TripletFunction, emb: dict[int, torch.Tensor], heads: np.ndarray, columns: np.ndarray,
            target: torch.Tensor) -> np.ndarray:
    """Contrastive decision (T, len(columns)) of every trial under coalitions ``columns``."""
    out = np.empty((len(heads), len(columns)))
    for t, h in enumerate(heads):
        x = torch.stack([emb[int(f)][columns] for f in h], dim=1)  # (N, 3, K)
        logits = fn.logits(x).cpu().double()
        out[t] = contrastive_logit(logits, target[t].expand(len(columns))).numpy()
    return out


@dataclass
class RegionShapley:
    """Per trial: ``phi`` (T, P) region values, ``se`` (T, P) their standard error (0 when exact),
    ``target`` (T,) the explained position (prediction on the intact triplet unless given),
    ``logits`` (T, 3) intact, ``v_full`` and ``v_empty`` (T,) the decision with all / no players,
    ``halves`` (2, T, P) estimates from the two halves of the permutations (sampled only)."""

    phi: np.ndarray
    se: np.ndarray
    target: np.ndarray
    logits: np.ndarray
    v_full: np.ndarray
    v_empty: np.ndarray
    exact: bool
    n_coalitions: int
    halves: np.ndarray | None = None

    def split_half_reliability(self) -> float:
        """Pearson r across trials between the two halves' estimates, mean over players."""
        if self.halves is None:
            return 1.0
        a, b = self.halves
        r = [np.corrcoef(a[:, p], b[:, p])[0, 1] for p in range(a.shape[1]) if a[:, p].std() > 0 and b[:, p].std() > 0]
        return float(np.mean(r)) if r else float("nan")


def region_shapley(fn: TripletFunction, faces: torch.Tensor, references: torch.Tensor, players: np.ndarray,
                   heads: np.ndarray, settings: ShapleySettings = ShapleySettings(),
                   target_pos: np.ndarray | None = None, progress=lambda x: x) -> RegionShapley:
    """Region Shapley values of every trial's contrastive decision.

    ``faces`` and ``references`` (F, C, H, W) model inputs; ``players`` (F, P, H, W) bool, each
    pixel in exactly one player; ``heads`` (T, 3) rows into ``faces``.
    """
    heads = np.asarray(heads)
    n_players = players.shape[1]
    full = (1 << n_players) - 1
    exact = 2**n_players <= settings.max_exact_coalitions
    if exact:
        coalitions = np.arange(2**n_players)
    else:
        perms, bits = sampled_coalitions(n_players, settings.n_permutations, settings.seed)
        coalitions = np.unique(np.concatenate([bits.ravel(), [0, full]]))
    emb = coalition_embeddings(fn, faces, references, players, coalitions, np.unique(heads), progress,
                               settings.feather)
    col = {int(c): i for i, c in enumerate(coalitions)}
    intact = torch.stack([torch.stack([emb[int(f)][col[full]] for f in h]) for h in heads]) if len(heads) else \
        torch.zeros(0, 3, 1)
    logits = fn.logits(intact).cpu().double() if len(heads) else torch.zeros(0, 3, dtype=torch.float64)
    target = logits.argmax(1) if target_pos is None else torch.as_tensor(np.asarray(target_pos), dtype=torch.long)
    values = _values(fn, emb, heads, np.arange(len(coalitions)), target)
    v_full, v_empty = values[:, col[full]], values[:, col[0]]
    if exact:
        phi = exact_shapley(values)
        return RegionShapley(phi, np.zeros_like(phi), target.numpy(), logits.numpy(), v_full, v_empty, True,
                             len(coalitions))
    idx = np.vectorize(col.get)(bits)  # (n_perm, P + 1) columns of the prefix coalitions
    gains = values[:, idx[:, 1:]] - values[:, idx[:, :-1]]  # (T, n_perm, P) gain of the player at each step
    per_perm = np.zeros_like(gains)
    np.put_along_axis(per_perm, np.broadcast_to(perms[None], gains.shape), gains, axis=2)
    pairs = per_perm.reshape(len(heads), -1, 2, n_players).mean(2)  # antithetic pairs (T, n_pairs, P)
    phi = pairs.mean(1)
    se = pairs.std(1, ddof=1) / np.sqrt(pairs.shape[1]) if pairs.shape[1] > 1 else np.full_like(phi, np.nan)
    n_half = pairs.shape[1] // 2
    halves = np.stack([pairs[:, :n_half].mean(1), pairs[:, n_half:2 * n_half].mean(1)]) if n_half else None
    return RegionShapley(phi, se, target.numpy(), logits.numpy(), v_full, v_empty, False, len(coalitions), halves)


def pixel_form(phi: np.ndarray, players: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """(T, 3, H, W) maps in the heatmap-store format: each region value split equally over the
    three faces and spread evenly over the region's pixels, so a region's sum over the three
    maps is its Shapley value."""
    area = players.sum(axis=(2, 3)).astype(np.float64)  # (F, P)
    out = np.zeros((len(heads), 3, *players.shape[2:]), np.float32)
    for t, h in enumerate(np.asarray(heads)):
        for p, f in enumerate(h):
            dens = np.divide(phi[t] / 3, area[f], out=np.zeros(players.shape[1]), where=area[f] > 0)
            out[t, p] = np.tensordot(dens, players[f].astype(np.float64), axes=1)
    return out
