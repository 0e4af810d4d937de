"""Region truth through the renderer: group Shapley values mapped onto regions where each
parameter group's change actually falls.

The interventional stage knows how much each parameter group moved a model's decision; an
explainer answers in regions. The equal-split parameter→region table (``face_params``) agrees with
where a parameter's pixel change falls at only 0.79 per trial, so the map is measured instead: for
each face and group, the face is re-rendered with that group set to the mean face and the
|pixel change| is summed per player (the 12 regions and the rest). A trial's footprint of a group
is its change summed over the three faces, as a share; a region's truth is
``Σ_g φ_g · share_g(region)``.
"""

from __future__ import annotations

import numpy as np

from facesimxai.data.face_params import GROUPS, PARAMETERS
from facesimxai.data.faces import resize_square
from facesimxai.data.render import RenderSettings
from facesimxai.data.synthetic import render_many

GROUP_OF = np.array([GROUPS.index(p.group) for p in PARAMETERS])


def group_footprints(params: np.ndarray, images: np.ndarray, players: np.ndarray, workers: int = 1) -> np.ndarray:
    """(F, G, P) |pixel change| mass of removing each group from each face, per player.

    ``images`` (F, S, S, 3) uint8 are the intact renders; ``players`` (F, P, H, W) at model input
    size; the change is measured after resizing to that size, as the model sees it."""
    size = images.shape[1]
    jobs = []
    for p in params:
        for g in range(len(GROUPS)):
            q = p.copy()
            q[GROUP_OF == g] = 0.0
            jobs.append((q, RenderSettings(), size, 0.0, 0))
    removed = render_many(jobs, workers, "group footprints").reshape(len(params), len(GROUPS), size, size, 3)
    side = players.shape[-1]
    intact = resize_square(images, side).astype(np.float64)
    mass = np.zeros((len(params), len(GROUPS), players.shape[1]))
    for f in range(len(params)):
        diff = np.abs(resize_square(removed[f], side).astype(np.float64) - intact[f]).sum(-1)  # (G, H, W)
        mass[f] = np.einsum("ghw,phw->gp", diff, players[f].astype(np.float64))
    return mass


def trial_shares(mass: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """(T, G, P): each group's footprint over the trial's three faces (rows ``heads``), as shares."""
    m = mass[np.asarray(heads)].sum(1)  # (T, G, P)
    total = m.sum(-1, keepdims=True)
    return np.divide(m, total, out=np.zeros_like(m), where=total > 0)


def region_truth(group_phi: np.ndarray, mass: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """(T, P) region truth from group values (T, G) and footprints."""
    return np.einsum("tg,tgp->tp", group_phi, trial_shares(mass, heads))
