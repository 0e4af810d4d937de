"""The demo's model geometry for benchmarks: VGG width 1/8 at 112 px, fc7 core, bridge 300, random weights.

A helper, not a benchmark: it measures nothing and running it does nothing. ``occlusion_cost.py``
and ``region_shapley_cost.py`` import it (``python benchmarks/<name>.py`` from the repository root
puts ``benchmarks/`` on the import path).
"""

from __future__ import annotations

import argparse

import torch

from facesimxai.models.triplet import TripletHead, TripletModel
from facesimxai.models.vgg import VGGFace


def add_common_args(ap: argparse.ArgumentParser) -> None:
    """--size, --device and --threads, as every model benchmark takes them."""
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)


def demo_triplet_model(size: int, threads: int, n_classes: int = 10, vgg_width: float = 0.125) -> TripletModel:
    """A seeded triplet model of the demo's shape (threads set for the whole process); ``vgg_width``
    1.0 is VGG-16 at VGG-Face's widths, the full study's backbone."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    vgg = VGGFace(vgg_width, size, n_classes).eval()
    return TripletModel(vgg.core("fc7-relu"), TripletHead(vgg.fc["fc7"].out_features, 300)).eval()
