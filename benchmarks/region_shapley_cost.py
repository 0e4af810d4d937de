"""Region Shapley cost per face, exact against sampled, on the demo geometry.

Players are 12 quadrant-like regions plus the rest (13, as the validity stage uses). Exact values
need every one of the 2^13 = 8192 coalitions embedded per face; antithetic permutation sampling
shared by all trials needs about 12 · n_permutations + 2. Decisions are evaluated on cached
embeddings, so the embeddings per face are the cost. Both run in the same process on the same
faces (112 px, VGG width 1/8, bridge 300) with random weights; the sampled values are compared
with the exact ones.

Prints a JSON object, then
``exact_embeddings_per_face=<a> exact_s_per_face=<b> sampled_embeddings_per_face=<c>
sampled_s_per_face=<d> max_abs_error_over_se=<e>``.
With ``--vgg-width 1 --size 224`` it runs at the full study's backbone; the last figures are
embeddings per second and the exact stage projected to ``--study-faces`` faces.
Run from the repository root: ``python benchmarks/region_shapley_cost.py [--faces 2] [--permutations 64]
[--device cuda]`` (about 2 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from demo_geometry import add_common_args, demo_triplet_model

from facesimxai.explain.region_shapley import ShapleySettings, region_players, region_shapley
from facesimxai.explain.triplet_function import from_triplet_model


def grid_masks(n_faces: int, size: int) -> np.ndarray:
    """12 disjoint rectangular regions in the central 3 × 4 grid; the border is the rest."""
    m = np.zeros((n_faces, 12, size, size), bool)
    lo, hi = size // 8, size - size // 8
    ys, xs = np.linspace(lo, hi, 5).astype(int), np.linspace(lo, hi, 4).astype(int)
    for r in range(12):
        i, j = divmod(r, 3)
        m[:, r, ys[i]:ys[i + 1], xs[j]:xs[j + 1]] = True
    return m


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", type=int, default=2, help="faces (each trial shows three of them, repeated)")
    ap.add_argument("--permutations", type=int, default=64)
    ap.add_argument("--vgg-width", type=float, default=0.125, help="1.0: VGG-16 at VGG-Face's widths (full study)")
    ap.add_argument("--study-faces", type=int, default=100, help="faces of the study the projection is for")
    add_common_args(ap)
    args = ap.parse_args()
    model = demo_triplet_model(args.size, args.threads, vgg_width=args.vgg_width)
    fn = from_triplet_model(model, args.device, 128)
    n = max(3, args.faces)
    faces = torch.randn(n, 3, args.size, args.size) * 50
    refs = torch.zeros_like(faces)
    players = region_players(grid_masks(n, args.size))
    heads = np.array([[0, 1, 2]])  # one trial: three faces' coalitions are embedded
    out = {}
    for label, settings in (("exact", ShapleySettings(max_exact_coalitions=2**13)),
                            ("sampled", ShapleySettings(args.permutations, max_exact_coalitions=1))):
        t0 = time.perf_counter()
        rs = region_shapley(fn, faces, refs, players, heads, settings)
        seconds = time.perf_counter() - t0
        out[label] = {"embeddings_per_face": rs.n_coalitions, "s_per_face": seconds / 3, "phi": rs.phi, "se": rs.se}
    err = np.abs(out["sampled"]["phi"] - out["exact"]["phi"]) / np.maximum(out["sampled"]["se"], 1e-12)
    report = {"device": args.device, "size": args.size, "vgg_width": args.vgg_width, "players": int(players.shape[1]),
              "permutations": args.permutations,
              **{f"{k}_{m}": v[m] for k, v in out.items() for m in ("embeddings_per_face", "s_per_face")},
              **{f"{k}_embeddings_per_s": v["embeddings_per_face"] / v["s_per_face"] for k, v in out.items()},
              # embeddings are cached per face and coalition, so the stage costs faces × s per face
              **{f"{k}_projected_h_for_{args.study_faces}_faces": args.study_faces * v["s_per_face"] / 3600
                 for k, v in out.items()},
              "sampled_vs_exact_max_abs_error_over_se": float(err.max())}
    print(json.dumps(report, indent=1))
    print(f"exact_embeddings_per_face={report['exact_embeddings_per_face']} "
          f"exact_s_per_face={report['exact_s_per_face']:.2f} "
          f"sampled_embeddings_per_face={report['sampled_embeddings_per_face']} "
          f"sampled_s_per_face={report['sampled_s_per_face']:.2f} "
          f"max_abs_error_over_se={report['sampled_vs_exact_max_abs_error_over_se']:.2f} "
          f"exact_embeddings_per_s={report['exact_embeddings_per_s']:.0f} "
          f"exact_projected_h_{args.study_faces}_faces={report[f'exact_projected_h_for_{args.study_faces}_faces']:.2f}")


if __name__ == "__main__":
    main()
