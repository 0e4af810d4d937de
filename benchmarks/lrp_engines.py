"""LRP engines side by side: the factorized engine against the best per-triplet baselines.

Measures, in one run, the seconds each engine takes for the same triplets and projects them to the
full study (185,000 target-position maps over 100 faces, bridge width K = 300, VGG-16 at 224 px):

* ``zennit``: zennit's standard API, ``zennit.attribution.Gradient`` with the project's composite
  (``explain.rules.make_composite``, the rules ``direct`` and ``naive`` use) on the batched triplet
  model, explaining each triplet's target output (target logit × one-hot), at each batch size of
  ``--zennit-batches``; the best one is the baseline;
* ``direct``: the project's batched engine, at the best zennit batch size (full scale: its own best);
* ``naive``: one triplet per pass (the thesis's loop);
* ``factorized``: per face, K backward passes give the basis ``L_f``; per trial, an LRP pass
  through the decision block gives ``s`` and the map is ``L_f · s``.

The factorisation pays when the maps per face exceed K: in the full study that ratio is about 6
(about 18 with all three positions). The small geometry here keeps that ratio (small faces and K,
many trials drawn with repetition). Every engine timed gets a warm-up call first. The batch scan and
``naive`` run on the first ``--scan-trials`` trials (per-triplet cost; batched passes cost the same
per triplet whatever the trial count), and ``naive``'s seconds are scaled to all trials; best zennit,
``direct`` and ``factorized`` run on all trials. Engines are timed in turns (round robin), the fastest
of ``--scan-repeats`` / ``--repeats`` / ``--full-repeats`` rounds kept, every run listed in
``all_runs_s``.

The full-study projection uses per-pass costs measured on VGG-16 at 224 px (random weights):
per triplet for the baselines; for ``factorized``, per face-unit backward pass (× faces × K), per
face forward pass (× faces) and its per-trial work, timed by running ``TripletExplainer.factorized``
itself with the per-face embeddings and bases precomputed (the decision-block pass, the L·s
products and the writes into the map array, × 185,000 trials). It is given for one job explaining
every trial, and for ``config/fullscale.yaml``'s ``explain.scatter`` parts, each of which computes
the bases of the faces it meets; ``auto_choice`` shows what ``choose_engine`` picks in each case.

Agreement is checked in float64 on a subset of the trials: the engines are equal in exact
arithmetic, and in float32 the alpha-beta rule amplifies rounding (its denominators can be tiny),
so every engine, the naive reference included, sits ~1e-3 from the float64 truth. ``max_rel_err``
is the float64 disagreement of every engine with ``naive``; the JSON also has each float32 engine's
deviation from the float64 truth.

Speed-ups are baseline seconds / factorized seconds (> 1: factorized is faster). Prints a JSON
object, then the line ``factorized_vs_best_zennit=<x> factorized_vs_direct=<y>
factorized_vs_naive=<z> max_rel_err=<e>`` (measured at the small geometry), the line
``full_study_projected_h: ...`` (hours on this machine) and the projected one-job speed-ups.
With ``--reduced-precision bfloat16,float16`` it also runs ``direct`` at full scale in those dtypes
and prints each one's error against float32 and its speed-up (line ``reduced_precision_direct_full_geometry``).
Run from the repository root: ``python benchmarks/lrp_engines.py [--positions all] [--device cuda]``
(about 9 minutes at the defaults on 2 quiet CPU cores, half of it the 224 px per-pass timing).
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
import yaml
from zennit.attribution import Gradient

from facesimxai.explain.engines import ExplainSettings, TripletExplainer, choose_engine, select_positions
from facesimxai.explain.rules import input_bounds, make_composite
from facesimxai.models.triplet import TripletHead, TripletModel
from facesimxai.models.vgg import VGGFace

ROOT = Path(__file__).resolve().parents[1]
METHOD = "epsilon_alpha2_beta1_flat"
PREPROCESSING = "facesim3d"


def full_study() -> dict:
    """The full study's geometry: data facts plus the model and scatter settings of config/fullscale.yaml."""
    cfg = yaml.safe_load((ROOT / "config" / "fullscale.yaml").read_text())
    return {"faces": 100, "trials": 185_000, "width": int(cfg["models"]["bridge_width"]),
            "input_size": int(cfg["backbone"]["input_size"]), "vgg_width": float(cfg["backbone"]["width"]),
            "scatter": int(cfg["explain"]["scatter"])}


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


def settings(positions: str) -> ExplainSettings:
    return ExplainSettings(method=METHOD, positions=positions)


class ZennitBaseline:
    """zennit's own attributor on the batched triplet model, with the composite the engines use."""

    def __init__(self, model: TripletModel, s: ExplainSettings, device):
        p = next(model.parameters())
        low, high = input_bounds(PREPROCESSING)
        composite = make_composite(model, s.method, low=low.to(p.device, p.dtype), high=high.to(p.device, p.dtype),
                                   epsilon=s.epsilon, gamma=s.gamma, decision_rule=s.decision_rule)
        self.attributor = Gradient(model, composite)
        self.positions, self.device = s.positions, torch.device(device)

    @staticmethod
    def target_output(out: torch.Tensor) -> torch.Tensor:
        """Output relevance of ``output: logit``, ``target: prediction``: target logit × one-hot."""
        return torch.nn.functional.one_hot(out.argmax(1), 3).to(out.dtype) * out.detach()

    def __call__(self, x: torch.Tensor, batch: int) -> torch.Tensor:
        maps = []
        with self.attributor:
            for s in range(0, len(x), batch):
                out, rel = self.attributor(x[s:s + batch].to(self.device).clone(), self.target_output)
                m = rel.sum(dim=2).detach().cpu()  # colour channels summed, as the engines do
                maps.append(m if self.positions == "all" else select_positions(m, out.argmax(1).cpu()))
        return torch.cat(maps)


def sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device, warmup=None, repeats: int = 1):
    """Fastest of ``repeats`` calls of ``fn()``, after one call of ``warmup`` (default: ``fn`` itself)
    that is not counted; returns (output, seconds)."""
    (warmup or fn)()
    sync(device)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        sync(device)
        best = min(best, time.perf_counter() - t)
    return out, best


def round_robin(engines: dict, device, repeats: int) -> dict:
    """Seconds of each engine: all warmed up first, then timed in turns, ``repeats`` rounds, the
    fastest run of each kept. Turns spread a slow spell of a shared machine over every engine
    instead of one. ``engines``: name → (run, warm-up). Returns name → {"s": fastest, "runs": all}."""
    for _, warm in engines.values():
        warm()
    runs = {name: [] for name in engines}
    for _ in range(repeats):
        for name, (run, _) in engines.items():
            sync(device)
            t = time.perf_counter()
            run()
            sync(device)
            runs[name].append(time.perf_counter() - t)
    return {name: {"s": min(r), "runs": r} for name, r in runs.items()}


@contextmanager
def precomputed(ex: TripletExplainer, emb: torch.Tensor, basis: torch.Tensor):
    """``ex.factorized`` with its per-face work (embeddings, bases) precomputed, inside the block.

    What is left of ``factorized`` is what it does per trial: the decision-block LRP pass, the
    ``s · L_f`` products and the writes into the map array. ``basis`` is used for every face (the
    cost does not depend on its values)."""
    ex.embeddings = lambda _faces: emb
    ex.basis = lambda _face, units=None: basis
    try:
        yield ex
    finally:
        del ex.embeddings, ex.basis  # back to the class's methods


def per_trial_work(ex: TripletExplainer, faces: torch.Tensor, heads: np.ndarray, emb: torch.Tensor,
                   basis: torch.Tensor, device) -> float:
    """Seconds of the factorized engine's per-trial work for ``heads`` (see ``precomputed``)."""
    with precomputed(ex, emb, basis):
        return timed(lambda: ex.factorized(faces, heads), device,
                     warmup=lambda: ex.factorized(faces, heads[: max(1, len(heads) // 20)]))[1]


def full_scale_costs(full: dict, device, positions: str, batches: list[int], basis_units: int,
                     trial_sample: int, repeats: int) -> dict:
    """Seconds per pass at full scale: per triplet (naive, zennit at each batch, direct), per
    face-unit of the basis, per face forward, and per trial of the factorized engine's per-trial work.
    All are timed in turns (``round_robin``), the fastest of ``repeats`` rounds kept."""
    size, width = full["input_size"], full["width"]
    model = alive_model(full["vgg_width"], size, width, device)
    ex = TripletExplainer(model, settings(positions), PREPROCESSING, device, batch_size=1, basis_batch=basis_units)
    zen = ZennitBaseline(model, settings(positions), device)
    nb = max(batches)
    torch.manual_seed(1)
    x = torch.randn(nb, 3, 3, size, size) * 60
    faces_sample = x[:, 0]

    def direct(b):
        ex.batch_size = b
        return ex.direct(x[:b])

    def embeddings():
        ex.batch_size = nb
        return ex.embeddings(faces_sample)

    # per-trial work at the full study's face count: embeddings tiled to 100 faces, one random basis
    emb = embeddings()[torch.arange(full["faces"]) % nb]
    basis = torch.randn(width, size, size, dtype=emb.dtype, device=ex.device)
    rng = np.random.default_rng(1)
    heads = np.array([rng.choice(full["faces"], 3, replace=False) for _ in range(trial_sample)])
    faces = torch.zeros(full["faces"], 3, size, size)

    def per_trial(h):
        with precomputed(ex, emb, basis):
            return ex.factorized(faces, h)

    # naive is direct at batch 1, so direct is timed at the other batch sizes only
    engines = {"naive": (lambda: ex.naive(x[:1]),) * 2}
    engines.update({f"zennit_b{b}": (lambda b=b: zen(x[:b], b),) * 2 for b in batches})
    engines.update({f"direct_b{b}": (lambda b=b: direct(b),) * 2 for b in batches if b > 1})
    engines["basis"] = (lambda: ex.basis(x[0, 0], units=basis_units),) * 2
    engines["embeddings"] = (embeddings,) * 2
    engines["per_trial_work"] = (lambda: per_trial(heads), lambda: per_trial(heads[: max(1, trial_sample // 20)]))
    t = round_robin(engines, device, repeats)
    zennit = {b: t[f"zennit_b{b}"]["s"] / b for b in batches}
    direct_s = {1: t["naive"]["s"], **{b: t[f"direct_b{b}"]["s"] / b for b in batches if b > 1}}
    best, best_direct = min(zennit, key=zennit.get), min(direct_s, key=direct_s.get)
    return {"naive_per_triplet": t["naive"]["s"],
            "zennit_per_triplet_by_batch": zennit, "zennit_best_batch": best, "zennit_best_per_triplet": zennit[best],
            "direct_per_triplet_by_batch": direct_s, "direct_best_batch": best_direct,
            "direct_per_triplet": direct_s[best_direct],
            "factorized_per_unit": t["basis"]["s"] / basis_units,
            "factorized_per_face_forward": t["embeddings"]["s"] / nb,
            "factorized_per_trial": t["per_trial_work"]["s"] / trial_sample,
            "per_trial_sample": trial_sample, "basis_units_timed": basis_units, "repeats_fastest_kept": repeats,
            "all_runs_s": {k: v["runs"] for k, v in t.items()}}


def project(full: dict, costs: dict) -> dict:
    """Hours for the full study, for one job and for the fullscale config's scatter parts."""
    n, f, k, parts = full["trials"], full["faces"], full["width"], full["scatter"]
    per_part = n / parts
    faces_per_part = f * (1 - (1 - 3 / f) ** per_part)  # expected distinct faces in a part's trials

    def factorized_h(n_faces: float, jobs: int) -> dict:
        basis = jobs * n_faces * k * costs["factorized_per_unit"]
        forward = jobs * n_faces * costs["factorized_per_face_forward"]
        trial = n * costs["factorized_per_trial"]
        return {"total_h": (basis + forward + trial) / 3600, "basis_h": basis / 3600,
                "face_forward_h": forward / 3600, "per_trial_h": trial / 3600}

    base = {"naive_h": costs["naive_per_triplet"] * n / 3600,
            "best_zennit_h": costs["zennit_best_per_triplet"] * n / 3600,
            "direct_h": costs["direct_per_triplet"] * n / 3600}
    one, scattered = factorized_h(f, 1), factorized_h(faces_per_part, parts)
    speedups = lambda fh: {f"factorized_vs_{b[:-2]}": v / fh for b, v in base.items()}  # noqa: E731
    return {
        "one_job": {**base, "factorized": one, "speedup": speedups(one["total_h"]),
                    "auto_choice": choose_engine("auto", n, f, k)},
        f"scatter_{parts}_parts": {
            "trials_per_part": per_part, "expected_faces_per_part": faces_per_part, **base,
            "factorized": scattered, "speedup": speedups(scattered["total_h"]),
            "auto_choice": choose_engine("auto", int(per_part), int(round(faces_per_part)), k)},
    }


def engine_maps(ex: TripletExplainer, zen: ZennitBaseline, faces: torch.Tensor, heads: np.ndarray,
                positions: str, batch: int) -> dict:
    """Maps of every engine for the same trials, reduced to the compared positions."""
    x = faces[torch.from_numpy(heads)]
    naive, _, nt = ex.naive(x)
    direct, _, dt = ex.direct(x)
    fact, _, _ = ex.factorized(faces, heads)
    if positions == "target":
        naive, direct = select_positions(naive, nt), select_positions(direct, dt)
    return {"naive": naive.double(), "direct": direct.double(), "zennit": zen(x, batch).double(),
            "factorized": fact.double()}


def agreement(model: TripletModel, faces: torch.Tensor, heads: np.ndarray, args, dev, batch: int) -> dict:
    """Engine disagreement in float64 and each float32 engine's error against the float64 truth."""
    def maps(dtype):
        m = copy.deepcopy(model).to(dtype)
        ex = TripletExplainer(m, settings(args.positions), PREPROCESSING, dev, batch_size=batch, basis_batch=args.width)
        return engine_maps(ex, ZennitBaseline(m, settings(args.positions), dev), faces.to(dtype), heads,
                           args.positions, batch)

    exact, single = maps(torch.float64), maps(torch.float32)
    scale = exact["naive"].abs().max()
    rel = lambda a, b: float((a - b).abs().max() / scale)  # noqa: E731
    return {"trials": len(heads),
            "float64_engine_disagreement": max(rel(v, exact["naive"]) for k, v in exact.items() if k != "naive"),
            "float32_error_vs_float64": {k: rel(v, exact["naive"]) for k, v in single.items()},
            "float32_factorized_vs_direct": rel(single["factorized"], single["direct"])}


def reduced_precision(full: dict, device, positions: str, dtypes: list[str], n: int, batch: int) -> dict:
    """``direct`` maps at full scale in each reduced dtype against float32: error and seconds per triplet.

    The error is the largest absolute deviation over ``n`` triplets' maps relative to the largest
    float32 relevance (as ``agreement``), and the median over maps of the relative L2 error. A dtype
    the device cannot run (float16 convolutions on some CPUs) is reported as unsupported."""
    size = full["input_size"]
    base = alive_model(full["vgg_width"], size, full["width"], device)
    torch.manual_seed(2)
    x = torch.randn(n, 3, 3, size, size) * 60
    out = {}
    for name in ["float32", *dtypes]:
        dtype = getattr(torch, name)
        try:
            m = copy.deepcopy(base).to(dtype)
            ex = TripletExplainer(m, settings(positions), PREPROCESSING, device, batch_size=batch)
            maps, seconds = timed(lambda ex=ex, dtype=dtype: ex.direct(x.to(dtype))[0].float(), device)
        except (RuntimeError, NotImplementedError) as exc:
            out[name] = {"unsupported": str(exc).splitlines()[0][:200]}
            continue
        out[name] = {"seconds_per_triplet": seconds / n, "maps": maps}
    ref = out["float32"]["maps"]
    scale = ref.abs().max()
    for r in out.values():
        if "maps" in r:
            m = r.pop("maps")
            l2 = ((m - ref).flatten(1).norm(dim=1) / ref.flatten(1).norm(dim=1).clamp_min(1e-30)).median()
            r.update({"max_abs_err_over_max_relevance": float((m - ref).abs().max() / scale),
                      "median_relative_l2_err": float(l2),
                      "speedup_vs_float32": out["float32"]["seconds_per_triplet"] / r["seconds_per_triplet"]})
    geometry = {k: full[k] for k in ("vgg_width", "input_size", "width")}
    return {"triplets": n, "batch": batch, "geometry": geometry, "by_dtype": out}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--positions", choices=["target", "all"], default="target")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--faces", type=int, default=12)
    ap.add_argument("--width", type=int, default=16, help="bridge width K of the small geometry")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--zennit-batches", default="1,4,16,64", help="batch sizes scanned for the zennit baseline")
    ap.add_argument("--scan-trials", type=int, default=256, help="trials of the batch scan and of naive")
    ap.add_argument("--repeats", type=int, default=3,
                    help="timed rounds (fastest kept) of best zennit, direct and factorized on all trials")
    ap.add_argument("--scan-repeats", type=int, default=2, help="timed rounds (fastest kept) of the batch scan")
    ap.add_argument("--check-trials", type=int, default=300, help="trials compared in float64")
    ap.add_argument("--full-batches", default="1,2", help="zennit batch sizes timed at full scale (224 px)")
    ap.add_argument("--full-basis-units", type=int, default=4, help="basis units timed at full scale")
    ap.add_argument("--full-repeats", type=int, default=2, help="timed rounds (fastest kept) at full scale")
    ap.add_argument("--full-trial-sample", type=int, default=1000,
                    help="trials of the factorized per-trial work timed at full scale")
    ap.add_argument("--reduced-precision", default="",
                    help="comma-separated dtypes (bfloat16,float16) whose full-scale direct maps are compared "
                         "with float32 (error and speed); empty: skipped")
    ap.add_argument("--reduced-precision-trials", type=int, default=4)
    ap.add_argument("--full-size", type=int, default=None,
                    help="override the full study's input size (CI-sized smoke run: not the study's projection)")
    ap.add_argument("--full-vgg-width", type=float, default=None,
                    help="override the full study's VGG width (as --full-size)")
    args = ap.parse_args()
    dev = torch.device(args.device)
    full = full_study()
    if args.full_size or args.full_vgg_width:
        full.update({"input_size": args.full_size or full["input_size"],
                     "vgg_width": args.full_vgg_width or full["vgg_width"],
                     "overridden": "CI-sized geometry: the projections below are not the full study's"})
    t_start = time.perf_counter()
    maps_per_map_unit = full["trials"] / full["faces"] / full["width"]  # ≈ 6.2 target-position maps
    n_trials = int(round(maps_per_map_unit * args.faces * args.width))
    rng = np.random.default_rng(0)
    heads = np.array([rng.choice(args.faces, 3, replace=False) for _ in range(n_trials)])
    model = alive_model(1 / 16, args.size, args.width, dev)
    faces = torch.randn(args.faces, 3, args.size, args.size) * 60
    ex = TripletExplainer(model, settings(args.positions), PREPROCESSING, dev, batch_size=1, basis_batch=args.width)
    zen = ZennitBaseline(model, settings(args.positions), dev)
    x = faces[torch.from_numpy(heads)]
    scan = x[: args.scan_trials]
    n_scan = len(scan)

    # every engine gets a warm-up call of the timed shape before it is timed
    batches = [int(b) for b in args.zennit_batches.split(",")]
    scan_engines = {"naive": (lambda: ex.naive(scan), lambda: ex.naive(scan[:8]))}
    scan_engines.update({f"zennit_b{b}": (lambda b=b: zen(scan, b), lambda b=b: zen(scan[:b], b)) for b in batches})
    scan_t = round_robin(scan_engines, dev, args.scan_repeats)
    scan_s = {b: scan_t[f"zennit_b{b}"]["s"] for b in batches}
    best = min(scan_s, key=scan_s.get)
    ex.batch_size = best
    three = np.array([[0, 1, 2]])
    main_t = round_robin({
        "best_zennit": (lambda: zen(x, best), lambda: zen(x[:best], best)),
        "direct": (lambda: ex.direct(x), lambda: ex.direct(x[:best])),
        "factorized": (lambda: ex.factorized(faces, heads), lambda: ex.factorized(faces[:3], three)),
    }, dev, args.repeats)
    t_zennit, t_direct, t_fact = (main_t[k]["s"] for k in ("best_zennit", "direct", "factorized"))
    r = args.repeats
    # the factorized engine's per-trial share at this geometry, and its per-face basis for scale
    emb = ex.embeddings(faces)
    basis = ex.basis(faces[0])
    t_fact_trial = per_trial_work(ex, faces, heads, emb, basis, dev)
    t_naive = scan_t["naive"]["s"] / n_scan * n_trials
    small = {
        "seconds": {"naive": t_naive, "best_zennit": t_zennit, "direct": t_direct, "factorized": t_fact,
                    "factorized_per_trial_work": t_fact_trial},
        "naive_timed_on_trials": n_scan, "repeats_fastest_kept": r,
        "all_runs_s": {k: v["runs"] for k, v in main_t.items()},
        "zennit_scan": {"trials": n_scan, "repeats_fastest_kept": args.scan_repeats,
                        "seconds_per_triplet_by_batch": {b: s / n_scan for b, s in scan_s.items()},
                        "naive_seconds_per_triplet": scan_t["naive"]["s"] / n_scan,
                        "all_runs_s": {k: v["runs"] for k, v in scan_t.items()}, "best_batch": best},
        "direct_batch": best,
        "speedup": {"factorized_vs_best_zennit": t_zennit / t_fact, "factorized_vs_direct": t_direct / t_fact,
                    "factorized_vs_naive": t_naive / t_fact},
    }
    check = agreement(model, faces, heads[: args.check_trials], args, dev, best)
    err = check["float64_engine_disagreement"]
    costs = full_scale_costs(full, dev, args.positions, [int(b) for b in args.full_batches.split(",")],
                             args.full_basis_units, args.full_trial_sample, args.full_repeats)
    projected = project(full, costs)
    dtypes = [d for d in args.reduced_precision.split(",") if d]
    precision = (reduced_precision(full, dev, args.positions, dtypes, args.reduced_precision_trials,
                                   max(int(b) for b in args.full_batches.split(","))) if dtypes else None)
    result = {
        "geometry": {"faces": args.faces, "trials": n_trials, "K": args.width, "input": args.size,
                     "positions": args.positions, "maps_per_face_over_K": n_trials / args.faces / args.width},
        "small_geometry": small,
        "agreement": check,
        "full_study": full,
        "full_study_per_pass_s": costs,
        "full_study_projected": projected,
        "reduced_precision": precision,
        "auto_choice_this_geometry": choose_engine("auto", n_trials, args.faces, args.width),
        "device": str(dev), "threads": torch.get_num_threads(),
        "benchmark_seconds": time.perf_counter() - t_start,
    }
    print(json.dumps(result, indent=2))
    sp = small["speedup"]
    print(f"factorized_vs_best_zennit={sp['factorized_vs_best_zennit']:.2f} "
          f"factorized_vs_direct={sp['factorized_vs_direct']:.2f} factorized_vs_naive={sp['factorized_vs_naive']:.2f} "
          f"max_rel_err={err:.2e}")
    one, parts = projected["one_job"], projected[f"scatter_{full['scatter']}_parts"]
    if "overridden" in full:
        print(f"note: {full['overridden']}")
    print(f"full_study_projected_h: best_zennit={one['best_zennit_h']:.0f} direct={one['direct_h']:.0f} "
          f"naive={one['naive_h']:.0f} factorized_one_job={one['factorized']['total_h']:.1f} "
          f"(per-trial work {one['factorized']['per_trial_h']:.2f}) "
          f"factorized_{full['scatter']}_parts={parts['factorized']['total_h']:.0f} "
          f"auto_per_part={parts['auto_choice']}")
    print(f"full_study_projected_one_job: factorized_vs_best_zennit={one['speedup']['factorized_vs_best_zennit']:.1f} "
          f"factorized_vs_direct={one['speedup']['factorized_vs_direct']:.1f} "
          f"factorized_vs_naive={one['speedup']['factorized_vs_naive']:.1f}")
    if precision:
        print("reduced_precision_direct_full_geometry: " + " ".join(
            f"{k}=unsupported" if "unsupported" in v else
            f"{k}_max_err={v['max_abs_err_over_max_relevance']:.1e} "
            f"{k}_median_l2_err={v['median_relative_l2_err']:.1e} "
            f"{k}_speedup={v['speedup_vs_float32']:.2f}"
            for k, v in precision["by_dtype"].items() if k != "float32"))

if __name__ == "__main__":
    main()
