"""Numerical determinism that does not depend on the machine's thread count.

BLAS/LAPACK kernels (OpenBLAS, MKL) split a matrix product or an SVD differently for different
thread counts, and the partial sums then round differently in the last float digit. A stage whose
output is compared bit for bit (a resumed job against the uninterrupted one, a SLURM job against a
local one) must therefore fix its BLAS thread count, whatever ``OMP_NUM_THREADS`` the job inherits.
threadpoolctl does that for every BLAS library loaded in the process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

#: BLAS threads of the stages whose numpy/scikit-learn results are compared bit for bit. One thread
#: costs little here: the matrices are small and each job already shares the cores with others.
DETERMINISTIC_BLAS_THREADS = 1


@contextmanager
def pinned_blas(threads: int = DETERMINISTIC_BLAS_THREADS) -> Iterator[None]:
    """Run the enclosed computation with exactly ``threads`` BLAS/OpenMP threads."""
    with threadpool_limits(limits=threads):
        yield
