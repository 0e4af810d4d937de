"""One way to write a report figure: atomically (no half-written PNG under the final name), closed after."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from facesimxai.io import atomic_path  # noqa: E402

log = logging.getLogger(__name__)


def save_figure(fig, out: Path | str, dpi: int = 110) -> None:
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    log.info("wrote figure %s", out)
