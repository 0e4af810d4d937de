"""Data-stage throughput: face rendering (1 vs 2 workers) and full-study triplet enumeration.

Measures milliseconds per rendered 224 px pretraining face with 1 and 2 render workers (48 faces
each) and the time to enumerate and rank all 161,700 triplets of 100 faces (fastest of 3).
Prints two lines of figures. Run from the repository root: ``python benchmarks/bench_data.py``
(about 10 seconds). Ratios are measured side by side in one run because these machines are noisy.
"""

from __future__ import annotations

import time

import numpy as np

from facesimxai.data.synthetic import Augmentation, pretrain_renders
from facesimxai.data.triplets import iter_triplets, rank_triplets


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    n = 48
    aug = Augmentation()
    one = timed(lambda: pretrain_renders(n // 2, 2, 0, 224, aug, workers=1), 1)
    two = timed(lambda: pretrain_renders(n // 2, 2, 0, 224, aug, workers=2), 1)
    print(f"render 224 px: {one / n * 1e3:.1f} ms/face (1 worker), {two / n * 1e3:.1f} ms/face "
          f"(2 workers), speed-up {one / two:.2f}x")
    t_enum = timed(lambda: sum(len(c) for c in iter_triplets(100)))
    all_t = np.concatenate(list(iter_triplets(100)))
    t_rank = timed(lambda: rank_triplets(all_t[:, 0], all_t[:, 1], all_t[:, 2]))
    print(f"enumerate all 161,700 triplets of 100 faces: {t_enum * 1e3:.1f} ms; "
          f"rank them: {t_rank * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
