"""How feathering region edges changes region Shapley's agreement with the renderer truth, on two
decisions whose only unknown is the explainer: a sum over pixels and the backbone's distance.

A gated model cannot choose an explainer setting without the choice fitting the gate. These two
decisions are not gated models: ``pixels``, the squared pixel distance between the two other faces
(additive over pixels, so region Shapley's answer is unaffected by edges), and ``backbone``, the
same distance over the trained backbone's unit-normalised ``--layer`` features. For each, the
renderer truth is computed as the validity stage computes a model's (exact group Shapley values
over the 2^7 parameter-group coalitions, each face re-rendered, mapped onto regions by each group's
pixel footprint) and compared with region Shapley at each ``--feathers`` value, on the validity
stage's trials of unseen faces, side by side in one run.

Needs a finished ``make demo`` (``results/unseen``, ``results/models/backbone.pt``). Prints a JSON
object, then one line per decision × feather:
``decision=<d> feather=<f> sigma_px=<s> rho_within=<a> rho_across=<b> split_half=<c> seconds=<t>``.
Run from the repository root: ``python benchmarks/region_shapley_feather.py [--results results]
[--feathers 0 0.018 0.027 0.045]`` (about 8 minutes on 2 CPU cores for the demo).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from facesimxai.config import load_config
from facesimxai.data.render import RenderSettings
from facesimxai.data.synthetic import render_many
from facesimxai.data.unseen import load_unseen
from facesimxai.explain.references import reference_faces
from facesimxai.explain.region_shapley import ShapleySettings, region_shapley
from facesimxai.explain.triplet_function import TripletFunction
from facesimxai.models.backbone import load_backbone
from facesimxai.models.vgg import preprocess
from facesimxai.regions.interventional import contrastive, masked_parameters, rowwise_spearman, sample_triplets
from facesimxai.shapley import exact_shapley
from facesimxai.validity.run import _unseen_landmarks, face_players
from facesimxai.validity.truth import group_footprints, region_truth


class Features(nn.Module):
    """Unit-normalised backbone features at ``layer``, or the flattened pixels."""

    def __init__(self, backbone: nn.Module | None, layer: str):
        super().__init__()
        self.backbone, self.layer = backbone, layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.backbone is None:
            return x.flatten(1)
        f = self.backbone(x, until=self.layer).flatten(1)
        return f / f.norm(dim=1, keepdim=True).clamp_min(1e-8)


def odd_one_out(emb: torch.Tensor) -> torch.Tensor:
    """Logits (T, 3): a face is odd when the other two are close (mean squared distance)."""
    d = [((emb[:, j] - emb[:, k]) ** 2).mean(-1) for j, k in ((1, 2), (0, 2), (0, 1))]
    return -10 * torch.stack(d, -1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default="results")
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--layer", default="fc7-relu")
    ap.add_argument("--feathers", type=float, nargs="+", default=[0.0, 0.018, 0.027, 0.045])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    torch.set_num_threads(args.threads)
    cfg = load_config(args.config)
    inter, val, reg = cfg["interventional"], cfg["validity"], cfg["regions"]
    res = Path(args.results)
    backbone, mode = load_backbone(res / "models" / "backbone.pt")
    backbone.eval()
    size = int(backbone.input_size)
    images_all, params_all = load_unseen(res / "unseen" / "faces.zarr")
    images, params = images_all[: inter["n_faces"]], params_all[: inter["n_faces"]]
    heads = sample_triplets(len(params), inter["n_trials"], inter["seed"])[: val["n_trials"]] - 1
    players, found = face_players(_unseen_landmarks(res / "unseen" / "landmarks.zarr", len(images), size), size,
                                  None, reg["priority"], reg["margin"], False)
    keep = found[heads].all(1)
    heads = heads[keep]
    faces = preprocess(images, size, mode)
    refs = reference_faces(images, faces, "mean", True, size, mode)
    masked = masked_parameters(params)  # (F, 2^G, parameters)
    t0 = time.perf_counter()
    jobs = [(p, RenderSettings(), images.shape[1], 0.0, 0) for p in masked.reshape(-1, masked.shape[-1])]
    renders = render_many(jobs, args.threads, "group coalitions")
    coalition_inputs = preprocess(renders, size, mode)
    mass = group_footprints(params, images, players, args.threads)
    render_s = time.perf_counter() - t0
    out: dict = {"n_trials": int(len(heads)), "n_faces": int(len(params)), "layer": args.layer,
                 "render_seconds": render_s, "rows": []}
    lines = []
    for decision, module in (("pixels", Features(None, "")), ("backbone", Features(backbone, args.layer))):
        fn = TripletFunction(module, odd_one_out)
        emb = fn.embed(coalition_inputs).reshape(len(params), masked.shape[1], -1)
        full = masked.shape[1] - 1
        target = np.array([fn.logits(emb[h, full][None]).argmax(-1).item() for h in heads])
        game = np.stack([contrastive(fn.logits(emb[h].transpose(0, 1)).double().numpy(), np.full(emb.shape[1], t))
                         for h, t in zip(heads, target, strict=True)])
        truth = region_truth(exact_shapley(game), mass, heads)
        for feather in args.feathers:
            t1 = time.perf_counter()
            settings = ShapleySettings(**{**val["region_shapley"], "feather": feather})
            rs = region_shapley(fn, faces, refs, players, heads, settings, target)
            row = {"decision": decision, "feather": feather, "sigma_px": round(feather * size, 2),
                   "rho_within": float(np.nanmean(rowwise_spearman(rs.phi, truth))),
                   "rho_across": float(np.nanmean(rowwise_spearman(rs.phi.T, truth.T))),
                   "split_half": rs.split_half_reliability(), "seconds": time.perf_counter() - t1}
            out["rows"].append(row)
            lines.append(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    print(json.dumps(out, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
