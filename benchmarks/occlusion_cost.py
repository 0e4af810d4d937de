"""Occlusion cost per explained face and per trial, with and without reusing occluded-face embeddings.

With a frozen core, a face's occluded versions depend on the face alone: ``occlusion_maps``
embeds them once per explained face and reuses them in every triplet whose explained face it is,
so the work is (explained faces × patches) embeddings plus a decision-block pass per triplet ×
patch. Without reuse (X-Maps' per-pair loop) every trial embeds its own three faces and its own
occluded face. This runs both on the demo geometry (112 px, VGG width 1/8, bridge 300, X-Maps
patches, random weights), checks that they give the same maps, and measures every figure it
prints: the embedding and decision calls are counted and timed as they happen (``fn.embed`` and
``fn.logits`` are wrapped), not derived from formulas. The only extrapolated figure is named so:
``*_extrapolated`` = the measured per-trial figure of the no-reuse run × trials.

Prints a JSON object, then the line ``per_explained_face_embed_s=<a> per_trial_rest_s=<b>
with_reuse_per_trial_s=<c> without_reuse_per_trial_s=<d> reuse_speedup=<e>``: (a) seconds
embedding one explained face's occluded versions, (b) seconds per trial for everything else
(decision passes, spreading, blur, the plain embeddings), (c) the reuse run's total seconds /
trials, (d) seconds per trial without reuse, (e) d / c.
Run from the repository root: ``python benchmarks/occlusion_cost.py [--faces 24] [--trials 200]
[--device cuda]`` (about 4 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from demo_geometry import add_common_args, demo_triplet_model

from facesimxai.explain.occlusion import OcclusionSettings, occlusion_maps, patch_corners
from facesimxai.explain.triplet_function import TripletFunction, from_triplet_model


class Meter:
    """Counts and times the embedding and decision calls of a TripletFunction (wraps the instance)."""

    def __init__(self, fn: TripletFunction):
        self.fn, self.embed, self.logits = fn, fn.embed, fn.logits
        fn.embed, fn.logits = self._embed, self._logits
        self.reset()

    def reset(self) -> None:
        self.images_embedded = self.embed_calls = self.triplets_decided = 0
        self.embed_s = self.decide_s = 0.0
        self.embed_log: list[tuple[int, float]] = []  # (images, seconds) per embed call

    def _embed(self, faces: torch.Tensor) -> torch.Tensor:
        t = time.perf_counter()
        out = self.embed(faces)
        self.embed_s += time.perf_counter() - t
        self.embed_log.append((len(faces), time.perf_counter() - t))
        self.images_embedded += len(faces)
        self.embed_calls += 1
        return out

    def _logits(self, emb: torch.Tensor) -> torch.Tensor:
        t = time.perf_counter()
        out = self.logits(emb)
        self.decide_s += time.perf_counter() - t
        self.triplets_decided += len(emb)
        return out

    def snapshot(self) -> dict:
        return {"images_embedded": self.images_embedded, "embed_calls": self.embed_calls,
                "triplets_decided": self.triplets_decided, "embed_s": self.embed_s, "decide_s": self.decide_s}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", type=int, default=24)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--naive-trials", type=int, default=4, help="trials timed without reuse (per-trial cost)")
    add_common_args(ap)
    args = ap.parse_args()
    model = demo_triplet_model(args.size, args.threads)
    fn = from_triplet_model(model, args.device, batch_size=256)
    meter = Meter(fn)
    faces = torch.randn(args.faces, 3, args.size, args.size)
    rng = np.random.default_rng(0)
    heads = np.array([rng.choice(args.faces, 3, replace=False) for _ in range(args.trials)])
    fill = torch.zeros(3, args.size, args.size)
    settings = OcclusionSettings()
    sizes, stride = settings.geometry(args.size)
    n_patches = sum(len(patch_corners(args.size, p, stride)) for p in sizes)

    occlusion_maps(fn, faces[:3], np.array([[0, 1, 2]]), fill, settings)  # warm-up, not counted
    meter.reset()
    t0 = time.perf_counter()
    maps, _, target, _ = occlusion_maps(fn, faces, heads, fill, settings)
    reuse_s = time.perf_counter() - t0
    reuse = meter.snapshot()
    # occlusion_maps's first embed call embeds the plain faces; each later one, one explained
    # face's occluded versions at one patch size
    plain_images, plain_embed_s = meter.embed_log[0]
    explained_faces = len(np.unique(heads[np.arange(len(heads)), target.numpy()]))

    meter.reset()
    t0 = time.perf_counter()
    # without reuse: each trial embeds its own three faces and its own occluded versions
    naive = [occlusion_maps(fn, faces[torch.from_numpy(heads[t])], np.array([[0, 1, 2]]), fill, settings)[0]
             for t in range(args.naive_trials)]
    naive_s = time.perf_counter() - t0
    naive_counts = meter.snapshot()
    err = max(float((a[0] - maps[t]).abs().max() / maps[t].abs().max().clamp_min(1e-12))
              for t, a in enumerate(naive))

    occluded_images = reuse["images_embedded"] - plain_images
    occluded_embed_s = reuse["embed_s"] - plain_embed_s
    per_face = occluded_embed_s / explained_faces
    per_trial_rest = (reuse_s - occluded_embed_s) / args.trials
    with_reuse_per_trial = reuse_s / args.trials
    without_reuse_per_trial = naive_s / args.naive_trials
    naive_images_per_trial = naive_counts["images_embedded"] / args.naive_trials
    result = {
        "geometry": {"faces": args.faces, "trials": args.trials, "input_px": args.size,
                     "patch_sizes_px": sizes, "stride_px": stride, "patches_per_face_all_sizes": n_patches},
        "with_reuse": {
            "explained_faces_count": explained_faces,
            "images_embedded_count": reuse["images_embedded"],
            "plain_face_images_embedded_count": plain_images,
            "occluded_images_embedded_count": occluded_images,
            "occluded_images_per_explained_face": occluded_images / explained_faces,
            "triplet_decisions_count": reuse["triplets_decided"],
            "triplet_decisions_per_trial": reuse["triplets_decided"] / args.trials,
            "seconds_total": reuse_s, "seconds_embedding_plain_faces": plain_embed_s,
            "seconds_embedding_occluded": occluded_embed_s, "seconds_deciding": reuse["decide_s"],
            "seconds_per_explained_face_embedding_occluded": per_face,
            "seconds_per_trial_everything_else": per_trial_rest,
            "seconds_per_trial_total": with_reuse_per_trial,
        },
        "without_reuse": {
            "trials_run": args.naive_trials,
            "images_embedded_count": naive_counts["images_embedded"],
            "images_embedded_per_trial": naive_images_per_trial,
            "triplet_decisions_per_trial": naive_counts["triplets_decided"] / args.naive_trials,
            "seconds_total": naive_s, "seconds_per_trial": without_reuse_per_trial,
            "images_embedded_for_all_trials_extrapolated": naive_images_per_trial * args.trials,
            "seconds_for_all_trials_extrapolated": without_reuse_per_trial * args.trials,
        },
        "max_rel_diff_without_vs_with_reuse": err,
        "reuse_speedup_per_trial": without_reuse_per_trial / with_reuse_per_trial,
        "device": args.device, "threads": args.threads,
    }
    print(json.dumps(result, indent=2))
    print(f"per_explained_face_embed_s={per_face:.3f} per_trial_rest_s={per_trial_rest:.4f} "
          f"with_reuse_per_trial_s={with_reuse_per_trial:.4f} without_reuse_per_trial_s={without_reuse_per_trial:.3f} "
          f"reuse_speedup={without_reuse_per_trial / with_reuse_per_trial:.1f}")


if __name__ == "__main__":
    main()
