"""Maps of the sampled trials from every explainer under test, computed the way the stores are.

The faithfulness rule explains a seeded sample of held-out trials with each configured
explainer (LRP presets, gradient, gradient × input, occlusion) and a random baseline. Sampling
a few hundred trials keeps the curves cheap at any study size; the maps are the same functions
(``TripletExplainer``, ``occlusion_maps``) the store rules use, always for the model's own
prediction, since that is the decision whose faithfulness is measured.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from facesimxai.explain.decision_methods import DECISION_METHODS, decision_maps
from facesimxai.explain.engines import OCCLUSION, ExplainSettings, TripletExplainer, select_positions
from facesimxai.explain.occlusion import OcclusionSettings, black_fill, occlusion_maps
from facesimxai.explain.triplet_function import TripletFunction
from facesimxai.models.triplet import TripletModel

RANDOM = "random"
COMPARISON = {"gradient": {"method": "gradient"}, "gradient_x_input": {"method": "gradient_x_input"},
              "occlusion": {"method": OCCLUSION}, RANDOM: {"method": RANDOM}}


def explainers_under_test(configured: dict[str, dict], occlusion: dict | None = None) -> dict[str, dict]:
    """The configured explainers, plus each comparison method no configured explainer uses
    (occlusion with the ``faithfulness.occlusion`` settings)."""
    methods = {s["method"] for s in configured.values()}
    extra = {name: s for name, s in COMPARISON.items() if s["method"] not in methods and name not in configured}
    if "occlusion" in extra:
        extra["occlusion"] = {**extra["occlusion"], **(occlusion or {})}
    return {**configured, **extra}


def baseline_faces(faces: torch.Tensor, kind: str, preprocessing: str) -> torch.Tensor:
    """What removed pixels become: a strong blur of the same face (stays in the image
    distribution), or black (X-Maps' occlusion colour)."""
    if kind == "black":
        return black_fill(faces.shape[-1], preprocessing).expand_as(faces).clone()
    if kind == "blur":
        sigma = faces.shape[-1] / 16
        return torch.from_numpy(gaussian_filter(faces.numpy(), sigma=(0, 0, sigma, sigma), mode="nearest"))
    raise ValueError(f"unknown baseline {kind!r} (config key faithfulness.baseline); baselines: blur, black")


def random_maps(shape: tuple[int, ...], trial_ids: np.ndarray, seed: int) -> np.ndarray:
    """Gaussian noise per trial, seeded by (seed, trial id): the same trial gets the same map."""
    return np.stack([np.random.default_rng([seed, int(t)]).standard_normal(shape[1:]) for t in trial_ids]
                    ).astype(np.float32) if len(trial_ids) else np.zeros(shape, np.float32)


def sample_maps(name: str, settings: dict, model: TripletModel | None, fn: TripletFunction, faces: torch.Tensor,
                heads: np.ndarray, trial_ids: np.ndarray, preprocessing: str, device: torch.device,
                seed: int, positions: str = "target", batch_size: int = 16, players: np.ndarray | None = None,
                references: torch.Tensor | None = None) -> np.ndarray:
    """(T, H, W) maps of each trial's predicted face, or (T, 3, H, W) for ``positions: all``.

    Region Shapley and integrated gradients need ``references`` (and region Shapley ``players``)."""
    size = faces.shape[-1]
    shape = (len(heads), size, size) if positions == "target" else (len(heads), 3, size, size)
    method = settings["method"]
    if method == RANDOM:
        return random_maps(shape, trial_ids, seed)
    if method == OCCLUSION:
        occ = OcclusionSettings(**{k: tuple(v) if k == "patches" else v for k, v in settings.items()
                                   if k in ("patches", "stride", "blur")})
        maps, *_ = occlusion_maps(fn, faces, heads, black_fill(size, preprocessing), occ, None, positions)
        return maps.numpy()
    if method in DECISION_METHODS:
        keep = {k: v for k, v in settings.items() if k in ExplainSettings.__dataclass_fields__}
        spec = ExplainSettings(**{**keep, "target": "prediction", "positions": positions})
        if references is None:
            raise ValueError(f"{method} needs reference faces")
        return decision_maps(spec, fn, faces, references, heads, None, players, seed)[0]
    if model is None:  # a similarity model without LRP rules: gradients through embed + decide
        return gradient_maps(fn, faces, heads, times_input=method != "gradient", positions=positions)
    keep = {k: v for k, v in settings.items() if k in ExplainSettings.__dataclass_fields__}
    ex = TripletExplainer(model, ExplainSettings(**{**keep, "target": "prediction", "positions": positions}),
                          preprocessing, device, batch_size)
    maps, _, target = ex.direct(faces[torch.from_numpy(heads)])
    return (select_positions(maps, target) if positions == "target" else maps).numpy()


def gradient_maps(fn: TripletFunction, faces: torch.Tensor, heads: np.ndarray, times_input: bool = True,
                  positions: str = "all", batch: int = 16) -> np.ndarray:
    """Gradient (× input) of the predicted logit w.r.t. each face, channels summed."""
    out = []
    for s in range(0, len(heads), batch):
        x = faces[torch.from_numpy(heads[s:s + batch])].to(fn.device).requires_grad_(True)
        logits = fn.forward_pixels(x)
        target = logits.argmax(1)
        (grad,) = torch.autograd.grad(logits.gather(1, target[:, None]).sum(), x)
        m = ((grad * x) if times_input else grad).sum(dim=2).detach().cpu()
        out.append(m[torch.arange(len(m)), target.cpu()] if positions == "target" else m)
    return torch.cat(out).numpy()
