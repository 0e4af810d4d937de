"""Occlusion cost per face and per trial, with and without reusing occluded-face embeddings.

With a frozen core, a face's occluded versions depend on the face alone: ``occlusion_maps``
embeds them once per face and reuses them in every triplet whose explained face it is, so the
cost is (faces × patches) embeddings plus a decision-block pass per triplet × patch. Without
reuse (X-Maps' per-pair loop) every trial embeds its own occluded face. This runs both side by
side on the demo geometry (112 px, VGG width 1/8, bridge 300, X-Maps patches) and checks that
they give the same maps.

Prints a JSON object, then the line
``per_face_s=<a> per_trial_s=<b> naive_per_trial_s=<c> reuse_speedup=<d>``.
Run: ``python benchmarks/occlusion_cost.py [--faces 24] [--trials 200] [--device cuda]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from demo_geometry import add_common_args, demo_triplet_model

from facesimxai.explain.occlusion import OcclusionSettings, occlusion_maps, patch_corners
from facesimxai.explain.triplet_function import from_triplet_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", type=int, default=24)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--naive-trials", type=int, default=4, help="trials timed without reuse (per-trial cost)")
    add_common_args(ap)
    args = ap.parse_args()
    model = demo_triplet_model(args.size, args.threads)
    fn = from_triplet_model(model, args.device, batch_size=256)
    faces = torch.randn(args.faces, 3, args.size, args.size)
    rng = np.random.default_rng(0)
    heads = np.array([rng.choice(args.faces, 3, replace=False) for _ in range(args.trials)])
    fill = torch.zeros(3, args.size, args.size)
    settings = OcclusionSettings()
    sizes, stride = settings.geometry(args.size)
    n_patches = sum(len(patch_corners(args.size, p, stride)) for p in sizes)

    t0 = time.perf_counter()
    maps, _, target, _ = occlusion_maps(fn, faces, heads, fill, settings)
    reuse_s = time.perf_counter() - t0
    explained_faces = len(np.unique(heads[np.arange(len(heads)), target.numpy()]))

    t0 = time.perf_counter()
    # without reuse: each trial embeds its own three faces and its own occluded versions
    naive = [occlusion_maps(fn, faces[torch.from_numpy(heads[t])], np.array([[0, 1, 2]]), fill, settings)[0]
             for t in range(args.naive_trials)]
    naive_per_trial = (time.perf_counter() - t0) / args.naive_trials
    err = max(float((a[0] - maps[t]).abs().max() / maps[t].abs().max().clamp_min(1e-12))
              for t, a in enumerate(naive))
    result = {"faces": args.faces, "explained_faces": explained_faces, "trials": args.trials,
              "patch_sizes_px": sizes, "stride_px": stride, "patches_per_face": n_patches,
              "embeddings_with_reuse": args.faces + explained_faces * n_patches,
              "embeddings_without_reuse": args.trials * (3 + n_patches),
              "seconds_with_reuse": reuse_s, "naive_seconds_per_trial": naive_per_trial,
              "max_rel_diff_naive_vs_reuse": err, "device": args.device, "threads": args.threads}
    print(json.dumps(result, indent=2))
    per_face, per_trial = reuse_s / explained_faces, reuse_s / args.trials
    print(f"per_face_s={per_face:.3f} per_trial_s={per_trial:.4f} naive_per_trial_s={naive_per_trial:.3f} "
          f"reuse_speedup={naive_per_trial / per_trial:.1f}")


if __name__ == "__main__":
    main()
