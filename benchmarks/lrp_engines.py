"""LRP engines side by side: naive (one triplet per pass), direct (batched) and factorized.

The factorisation pays when the number of maps per face exceeds the bridge width K. In the full
study (185,000 target-position maps over 100 faces, K = 300) that ratio is about 6, and about 18
when all three positions are kept. This benchmark runs a small geometry with the same ratio
(small faces and K, many trials sampled with repetition), checks that the engines agree, and
projects each engine's time for the full study from per-pass costs measured on VGG-16 at 224 px.

Agreement is checked in float64 on a subset of the same trials: the engines are equal in exact
arithmetic, and in float32 the alpha-beta rule amplifies rounding (its denominators can be tiny), so
every engine, the naive reference included, sits ~1e-3 from the float64 truth. ``max_rel_err`` on the
last line is the float64 engine disagreement; the JSON also reports each float32 engine's deviation
from the float64 truth, so the float32 spread is visible, not hidden.

Prints a JSON object, then the line
``speedup_factorized_vs_naive=<x> speedup_direct_vs_naive=<y> max_rel_err=<e>``.
Run: ``python benchmarks/lrp_engines.py [--positions all] [--device cuda]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import numpy as np
import torch

from facesimxai.explain.engines import ExplainSettings, TripletExplainer, choose_engine, select_positions
from facesimxai.models.triplet import TripletHead, TripletModel
from facesimxai.models.vgg import VGGFace

FULL = {"faces": 100, "trials": 185_000, "width": 300, "input_size": 224, "vgg_width": 1.0}


def alive_model(vgg_width: float, size: int, width: int, device) -> TripletModel:
    torch.manual_seed(0)
    vgg = VGGFace(vgg_width, size, 10).eval()
    feats = vgg.fc["fc7"].out_features
    for seed in range(100):
        torch.manual_seed(seed)
        head = TripletHead(feats, width).eval()
        if head(torch.rand(64, 3, feats)).std(0).min() > 1e-3:
            break
    return TripletModel(vgg.core("fc7-relu"), head).eval().to(device)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - t


def per_pass_costs(device, positions: str, batch: int) -> dict:
    """Seconds per naive triplet, per batched triplet and per factorized face-unit at full scale."""
    model = alive_model(FULL["vgg_width"], FULL["input_size"], FULL["width"], device)
    ex = TripletExplainer(model, ExplainSettings(method="epsilon_alpha2_beta1_flat", positions=positions),
                          "facesim3d", device, batch_size=batch, basis_batch=batch)
    x = torch.randn(batch, 3, 3, FULL["input_size"], FULL["input_size"]) * 60
    ex.naive(x[:1])  # warm-up
    _, t_naive = timed(lambda: ex.naive(x[:2]))
    _, t_direct = timed(lambda: ex.direct(x))
    _, t_basis = timed(lambda: ex.basis(x[0, 0], units=batch))  # one batch of `batch` units
    return {"naive_per_triplet": t_naive / 2, "direct_per_triplet": t_direct / batch,
            "factorized_per_unit": t_basis / batch}


def engine_maps(ex: TripletExplainer, faces: torch.Tensor, heads: np.ndarray, positions: str) -> dict:
    """Maps of all three engines for the same trials, reduced to the compared positions."""
    x = faces[torch.from_numpy(heads)]
    naive, _, nt = ex.naive(x)
    direct, _, dt = ex.direct(x)
    fact, _, _ = ex.factorized(faces, heads)
    if positions == "target":
        naive, direct = select_positions(naive, nt), select_positions(direct, dt)
    return {"naive": naive.double(), "direct": direct.double(), "factorized": fact.double()}


def agreement(model: TripletModel, faces: torch.Tensor, heads: np.ndarray, args, dev) -> dict:
    """Engine disagreement in float64 and each float32 engine's error against the float64 truth."""
    def explainer(dtype):
        return TripletExplainer(copy.deepcopy(model).to(dtype),
                                ExplainSettings(method="epsilon_alpha2_beta1_flat", positions=args.positions),
                                "facesim3d", dev, batch_size=32, basis_batch=args.width)
    exact = engine_maps(explainer(torch.float64), faces.double(), heads, args.positions)
    single = engine_maps(explainer(torch.float32), faces, heads, args.positions)
    scale = exact["naive"].abs().max()
    rel = lambda a, b: float((a - b).abs().max() / scale)  # noqa: E731
    return {"trials": len(heads),
            "float64_engine_disagreement": max(rel(exact["direct"], exact["naive"]),
                                               rel(exact["factorized"], exact["naive"])),
            "float32_error_vs_float64": {k: rel(v, exact["naive"]) for k, v in single.items()},
            "float32_factorized_vs_direct": rel(single["factorized"], single["direct"])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--positions", choices=["target", "all"], default="target")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--faces", type=int, default=12)
    ap.add_argument("--width", type=int, default=16, help="bridge width K of the small geometry")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--check-trials", type=int, default=300, help="trials compared in float64")
    ap.add_argument("--full-batch", type=int, default=4, help="batch for the full-scale per-pass timing")
    args = ap.parse_args()
    dev = torch.device(args.device)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    maps_per_map_unit = FULL["trials"] / FULL["faces"] / FULL["width"]  # ≈ 6.2 target-position maps
    n_trials = int(round(maps_per_map_unit * args.faces * args.width))
    rng = np.random.default_rng(0)
    heads = np.array([rng.choice(args.faces, 3, replace=False) for _ in range(n_trials)])
    model = alive_model(1 / 16, args.size, args.width, dev)
    faces = torch.randn(args.faces, 3, args.size, args.size) * 60
    ex = TripletExplainer(model, ExplainSettings(method="epsilon_alpha2_beta1_flat", positions=args.positions),
                          "facesim3d", dev, batch_size=32, basis_batch=args.width)
    x = faces[torch.from_numpy(heads)]
    _, t_naive = timed(lambda: ex.naive(x))
    _, t_direct = timed(lambda: ex.direct(x))
    _, t_fact = timed(lambda: ex.factorized(faces, heads))
    check = agreement(model, faces, heads[: args.check_trials], args, dev)
    err = check["float64_engine_disagreement"]
    costs = per_pass_costs(dev, args.positions, args.full_batch)
    n_full, f_full, k_full = FULL["trials"], FULL["faces"], FULL["width"]
    projected = {"naive_h": costs["naive_per_triplet"] * n_full / 3600,
                 "direct_h": costs["direct_per_triplet"] * n_full / 3600,
                 "factorized_h": costs["factorized_per_unit"] * f_full * k_full / 3600}
    result = {
        "geometry": {"faces": args.faces, "trials": n_trials, "K": args.width, "input": args.size,
                     "positions": args.positions, "maps_per_face_over_K": n_trials / args.faces / args.width},
        "seconds": {"naive": t_naive, "direct": t_direct, "factorized": t_fact},
        "agreement": check,
        "full_study_per_pass_s": costs, "full_study_projected": projected,
        "auto_choice": {"this_geometry": choose_engine("auto", n_trials, args.faces, args.width),
                        "full_study": choose_engine("auto", n_full, f_full, k_full)},
        "device": str(dev),
    }
    print(json.dumps(result, indent=2))
    print(f"speedup_factorized_vs_naive={t_naive / t_fact:.2f} speedup_direct_vs_naive={t_naive / t_direct:.2f} "
          f"max_rel_err={err:.2e}")


if __name__ == "__main__":
    main()
