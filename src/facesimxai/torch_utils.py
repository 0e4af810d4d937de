"""Device choice and seeding shared by every torch stage."""

from __future__ import annotations

import random

import numpy as np
import torch


def resolve_device(name: str) -> torch.device:
    """``auto`` = CUDA when available, else CPU; ``cuda`` without a GPU is an error, not a fallback."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"config device is {name!r} but no CUDA device is available; use 'auto' or 'cpu'")
    return torch.device(name)


def seed_everything(seed: int, threads: int | None = None) -> None:
    """Seed every generator and force deterministic kernels (bit-identical results on CPU)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if threads:
        torch.set_num_threads(threads)


def save_checkpoint(payload: dict, path) -> None:
    """``torch.save`` that leaves no file under the final name unless it completed."""
    from facesimxai.io import atomic_path

    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
