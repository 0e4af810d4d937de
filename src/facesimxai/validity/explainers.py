"""Every explainer of the validity check behind one call: trials in, (T, 3, H, W) maps out.

Pixel explainers (LRP presets, gradients, triplet integrated gradients) explain the contrastive
decision with a map for each of the three faces; ``lrp_thesis`` is the thesis's α2β1 preset as the
thesis ran it (target logit, target face only; the other two maps are zero). Region Shapley is
evaluated on regions and written in pixel form. Two floors carry no model knowledge at all: a
seeded random map and the |difference| between each face and the mean of the other two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from facesimxai.explain.engines import ExplainSettings, TripletExplainer
from facesimxai.explain.integrated import IGSettings, triplet_integrated_gradients
from facesimxai.explain.region_shapley import ShapleySettings, pixel_form, region_shapley
from facesimxai.explain.triplet_function import from_triplet_model
from facesimxai.models.triplet import TripletModel

#: name → ExplainSettings of the LRP/gradient explainers (all contrastive over three faces, but the thesis's).
PIXEL_EXPLAINERS: dict[str, dict] = {
    "lrp_thesis": {"method": "epsilon_alpha2_beta1_flat", "output": "logit", "positions": "all"},
    "lrp_alpha2_beta1": {"method": "epsilon_alpha2_beta1_flat", "output": "contrastive", "positions": "all"},
    "lrp_epsilon_plus": {"method": "epsilon_plus_flat", "output": "contrastive", "positions": "all"},
    "lrp_gamma_box": {"method": "epsilon_gamma_box", "output": "contrastive", "positions": "all"},
    "gradient": {"method": "gradient", "output": "contrastive", "positions": "all"},
    "gradient_x_input": {"method": "gradient_x_input", "output": "contrastive", "positions": "all"},
}
MODEL_EXPLAINERS = ("region_shapley", "integrated_gradients", *PIXEL_EXPLAINERS)

FLOORS = ("random", "difference")


@dataclass
class Inputs:
    """Faces as model inputs (F, C, H, W), region Shapley's reference and integrated gradients'
    baseline per face (F, C, H, W), players (F, P, H, W)."""

    faces: torch.Tensor
    references: torch.Tensor
    baselines: torch.Tensor
    players: np.ndarray
    preprocessing: str
    device: torch.device


def region_values(maps: np.ndarray, players: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """(T, P): each player's relevance summed over its pixels in all three faces."""
    out = np.zeros((len(heads), players.shape[1]))
    for pos in range(3):
        out += np.einsum("thw,tphw->tp", maps[:, pos].astype(np.float64), players[heads[:, pos]].astype(np.float64))
    return out


def explain(name: str, model: TripletModel, inputs: Inputs, heads: np.ndarray, target: np.ndarray,
            shapley: ShapleySettings, ig: IGSettings, batch_size: int = 16) -> dict:
    """Maps (T, 3, H, W) of explainer ``name`` for ``heads`` at positions ``target``, plus extras
    (``region_shapley``: its result object; ``integrated_gradients``: completeness errors)."""
    heads = np.asarray(heads)
    if name == "region_shapley":
        fn = from_triplet_model(model, inputs.device, 64)
        rs = region_shapley(fn, inputs.faces, inputs.references, inputs.players, heads, shapley, target)
        return {"maps": pixel_form(rs.phi, inputs.players, heads), "regions": rs.phi, "result": rs}
    if name == "integrated_gradients":
        fn = from_triplet_model(model, inputs.device, 64)
        out = triplet_integrated_gradients(fn, inputs.faces, inputs.baselines, heads, ig, target)
        return {"maps": out["maps"].numpy(), "completeness_error": out["completeness_error"].numpy()}
    if name in PIXEL_EXPLAINERS:
        spec = PIXEL_EXPLAINERS[name]
        ex = TripletExplainer(model, ExplainSettings(**spec), inputs.preprocessing, inputs.device, batch_size)
        maps, _, _ = ex.direct(inputs.faces[torch.from_numpy(heads)], target)
        maps = maps.numpy()
        if name == "lrp_thesis":  # the thesis keeps the target face's map only
            keep = np.zeros_like(maps)
            keep[np.arange(len(maps)), target] = maps[np.arange(len(maps)), target]
            maps = keep
        return {"maps": maps}
    raise KeyError(f"unknown explainer {name!r}; explainers: {', '.join(MODEL_EXPLAINERS)}")


def floor_maps(name: str, inputs: Inputs, heads: np.ndarray, seed: int) -> np.ndarray:
    """Maps of a floor explainer: seeded noise, or |face − mean of the other two| (channels summed)."""
    faces = inputs.faces[torch.from_numpy(np.asarray(heads))].numpy()  # (T, 3, C, H, W)
    if name == "random":
        return np.random.default_rng(seed).standard_normal((len(heads), 3, *faces.shape[-2:])).astype(np.float32)
    if name == "difference":
        others = (faces.sum(1, keepdims=True) - faces) / 2
        return np.abs(faces - others).sum(2)
    raise KeyError(f"unknown floor {name!r}")
