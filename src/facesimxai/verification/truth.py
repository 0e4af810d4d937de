"""Do X-Maps find what makes two faces differ? Impostor pairs that differ in one parameter group.

The embedded face space knows the answer: render a face, copy it, give the copy another
identity's values for one parameter group only (eyes, mouth, ...), render both with the same
neutral pose, light and no noise. The pixels that differ are then exactly where the group acts
(the "truth mask"), and a faithful X-Map must put its most dissimilar value (its minimum: occluding
there lowers the distance) inside that mask. Per method and group this module reports

- ``hit``: the X-Map's minimum lies in the truth mask (a pointing game);
- ``dissimilar_share``: the share of the map's negative mass inside the mask, next to
  ``area_share``, the mask's share of the image: the value a map blind to the change would get.

Pixels, not landmark regions: the renderer's difference image is the group's exact footprint,
while MediaPipe's regions are an approximation of it (and need the landmarks environment).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from facesimxai.data.face_params import GROUPS, PARAMETERS, sample_parameters
from facesimxai.data.render import RenderSettings
from facesimxai.data.synthetic import render_many

#: |difference| (of 255, the largest over channels, at model input size) above which a pixel
#: counts as changed; under it lie resampling residues of edges that did not move.
CHANGE_LEVEL = 4


def single_group_pairs(n_bases: int, seed: int, image_size: int,
                       workers: int = 1) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """(base images (n_bases, H, W, 3), changed images (n_bases · G, H, W, 3), table with
    ``base, group`` per changed image): each base face once per group with that group's
    parameters taken from a donor face. Seeded stream ``[seed, 9]`` of its own."""
    params = sample_parameters(2 * n_bases, np.random.default_rng([seed, 9]))
    bases, donors = params[:n_bases], params[n_bases:]
    group_of = np.array([p.group for p in PARAMETERS])
    changed, rows = [], []
    for i in range(n_bases):
        for group in GROUPS:
            p = bases[i].copy()
            p[group_of == group] = donors[i][group_of == group]
            changed.append(p)
            rows.append({"base": i, "group": group})
    jobs = [(p, RenderSettings(), image_size, 0.0, 0) for p in [*bases, *changed]]
    images = render_many(jobs, workers, "single-group pairs")
    return images[:n_bases], images[n_bases:], pd.DataFrame(rows)


def change_mask(a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
    """(size, size) bool: where the two renders differ at the model's input size."""
    ra, rb = (np.asarray(Image.fromarray(x).resize((size, size), Image.LANCZOS), np.int16) for x in (a, b))
    return np.abs(ra - rb).max(axis=-1) > CHANGE_LEVEL


def truth_scores(xmap: np.ndarray, mask: np.ndarray) -> dict:
    """Pointing-game hit, the negative mass inside the mask and the mask's area share."""
    neg = np.clip(-xmap, 0, None)
    total = neg.sum()
    y, x = np.unravel_index(np.argmin(xmap), xmap.shape)
    return {"hit": bool(mask[y, x]) if xmap.min() < 0 else False,
            "dissimilar_share": float(neg[mask].sum() / total) if total > 0 else float("nan"),
            "area_share": float(mask.mean())}
