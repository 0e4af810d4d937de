"""Integrated gradients of the whole triplet decision, with zennit's attributor.

The input is the triplet (three faces at once) and the explained output the contrastive decision
(target logit minus the mean of the other two), so the three maps together carry the decision:
by completeness their sum approaches f(x) − f(baseline) as ``n_steps`` grows; the remaining
error is recorded per trial. Baselines: the mean face (synthetic: the mean-parameter render;
real data: the mean image of the stimulus set), a blurred copy of each face, or black.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import gaussian_filter
from torch import nn
from zennit.attribution import IntegratedGradients

from facesimxai.explain.triplet_function import TripletFunction

BASELINES = ("mean", "blur", "black")


class _TripletPixels(nn.Module):
    """(B, 3, C, H, W) pixels → (B, 3) logits through embed and decide (one module for zennit)."""

    def __init__(self, fn: TripletFunction):
        super().__init__()
        self.embed = fn.embed_module
        self.decide = fn.decide

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        emb = self.embed(x.reshape(3 * b, *x.shape[2:])).flatten(1)
        return self.decide(emb.reshape(b, 3, -1))


def contrastive_weights(target: torch.Tensor) -> torch.Tensor:
    """d(contrastive)/d(logits): +1 at the target, −½ elsewhere, (B, 3)."""
    return 1.5 * nn.functional.one_hot(target, 3).float() - 0.5


def blurred(faces: torch.Tensor, sigma: float) -> torch.Tensor:
    """Each face blurred per channel with a Gaussian of ``sigma`` pixels."""
    return torch.from_numpy(gaussian_filter(faces.numpy(), sigma=(0, 0, sigma, sigma)).astype(np.float32))


@dataclass(frozen=True)
class IGSettings:
    n_steps: int = 32
    baseline: str = "mean"
    blur_sigma: float = 8.0  # pixels, for baseline "blur"
    batch_size: int = 8

    def __post_init__(self):
        if self.baseline not in BASELINES:
            raise ValueError(f"integrated_gradients baseline {self.baseline!r} is not one of {', '.join(BASELINES)}")


def baseline_faces(faces: torch.Tensor, mean_face: torch.Tensor | None, black: torch.Tensor,
                   settings: IGSettings) -> torch.Tensor:
    """(F, C, H, W) baseline of each face."""
    if settings.baseline == "mean":
        if mean_face is None:
            raise ValueError("integrated_gradients baseline 'mean' needs a mean face")
        return mean_face.expand_as(faces).clone()
    if settings.baseline == "blur":
        return blurred(faces, settings.blur_sigma)
    return black.expand_as(faces).clone()


def triplet_integrated_gradients(fn: TripletFunction, faces: torch.Tensor, baselines: torch.Tensor,
                                 heads: np.ndarray, settings: IGSettings = IGSettings(),
                                 target_pos: np.ndarray | None = None, progress=lambda x: x) -> dict:
    """IG maps (T, 3, H, W) (channels summed) of each trial's contrastive decision.

    Returns ``maps``, ``logits`` (T, 3), ``target`` (T,), ``completeness_error`` (T,):
    |Σ maps − (f(x) − f(baseline))| / max(|f(x) − f(baseline)|, 1e-12)."""
    module = _TripletPixels(fn).eval()
    heads = np.asarray(heads)
    maps, logits, targets, errors = [], [], [], []
    for s in progress(range(0, len(heads), settings.batch_size)):
        h = torch.from_numpy(heads[s:s + settings.batch_size])
        x = faces[h].to(fn.device)
        base = baselines[h].to(fn.device)
        with torch.no_grad():
            out = module(x)
            out_base = module(base)
        tgt = out.argmax(1) if target_pos is None else \
            torch.as_tensor(np.asarray(target_pos)[s:s + len(h)], dtype=torch.long, device=out.device)
        w = contrastive_weights(tgt).to(out.device)
        attributor = IntegratedGradients(module, baseline_fn=lambda _x, b=base: b, n_iter=settings.n_steps)
        _, attr = attributor(x, lambda _out, w=w: w)
        m = attr.sum(dim=2).detach().cpu()  # (b, 3, H, W)
        delta = ((out - out_base) * w).sum(1).cpu()
        err = (m.flatten(1).sum(1) - delta).abs() / delta.abs().clamp_min(1e-12)
        maps.append(m)
        logits.append(out.cpu())
        targets.append(tgt.cpu())
        errors.append(err)
    if not maps:
        return {"maps": torch.zeros(0, 3, *faces.shape[-2:]), "logits": torch.zeros(0, 3),
                "target": torch.zeros(0, dtype=torch.long), "completeness_error": torch.zeros(0)}
    return {"maps": torch.cat(maps), "logits": torch.cat(logits), "target": torch.cat(targets),
            "completeness_error": torch.cat(errors)}
