"""The interpretable parameter space of the synthetic faces.

Every parameter is documented with the observer weight group it belongs to, the thesis facial
regions it changes (ground truth for the region analyses) and the renderer parts it moves (used
to test that a parameter only changes pixels in its neighbourhood). Values live in [-1, 1];
0 is the average face.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from facesimxai.vocabulary import REGIONS


@dataclass(frozen=True)
class FaceParameter:
    name: str
    group: str
    regions: tuple[str, ...]
    parts: tuple[str, ...]
    description: str


#: Parameter table. ``regions`` lists thesis regions (or ``hair``/``skin``/``face_outline`` for
#: changes outside the 12 regions); ``parts`` names renderer parts (see ``render.part_boxes``).
PARAMETERS: tuple[FaceParameter, ...] = (
    FaceParameter("head_width", "head", ("left_cheek", "right_cheek", "face_outline"),
                  ("outline",), "half-width of the skull and cheekbones"),
    FaceParameter("jaw_width", "head", ("left_cheek", "right_cheek", "chin", "face_outline"),
                  ("jaw",), "fullness of the lower face between cheekbones and chin"),
    FaceParameter("chin_length", "head", ("chin", "face_outline"),
                  ("chin",), "how far the chin extends below the mouth"),
    FaceParameter("eye_spacing", "eyes", ("left_eye", "right_eye", "between_eyes"),
                  ("eyes",), "distance between the eye centres"),
    FaceParameter("eye_size", "eyes", ("left_eye", "right_eye"),
                  ("eyes",), "width and opening of the eyes"),
    FaceParameter("eye_height", "eyes", ("left_eye", "right_eye"),
                  ("eyes",), "vertical position of the eyes"),
    FaceParameter("brow_height", "brows", ("left_eyebrow", "right_eyebrow"),
                  ("brows",), "vertical position of the eyebrows"),
    FaceParameter("brow_thickness", "brows", ("left_eyebrow", "right_eyebrow"),
                  ("brows",), "thickness of the eyebrows"),
    FaceParameter("brow_slope", "brows", ("left_eyebrow", "right_eyebrow"),
                  ("brows",), "tilt of the eyebrows (inner ends up for positive values)"),
    FaceParameter("nose_length", "nose", ("nose_bridge", "nose_tip"),
                  ("nose",), "vertical position of the nose tip"),
    FaceParameter("nose_width", "nose", ("nose_tip",),
                  ("nose",), "width of the nose wings and nostrils"),
    FaceParameter("mouth_width", "mouth", ("mouth",),
                  ("mouth",), "distance between the mouth corners"),
    FaceParameter("lip_thickness", "mouth", ("mouth",),
                  ("mouth",), "thickness of upper and lower lip"),
    FaceParameter("mouth_height", "mouth", ("mouth",),
                  ("mouth",), "vertical position of the mouth"),
    FaceParameter("skin_tone", "skin", ("skin",),
                  ("skin",), "skin colour from light to dark"),
    FaceParameter("hair_color", "hair", ("hair",),
                  ("hair",), "hair colour from dark to blond"),
    FaceParameter("hairline", "hair", ("forehead", "hair"),
                  ("hairline",), "height of the hairline on the forehead"),
)

PARAMETER_NAMES: tuple[str, ...] = tuple(p.name for p in PARAMETERS)
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(p.group for p in PARAMETERS))


def parameter_table() -> pd.DataFrame:
    """The parameter→region table saved with every synthetic data set as ground truth."""
    return pd.DataFrame(
        {
            "parameter": [p.name for p in PARAMETERS],
            "group": [p.group for p in PARAMETERS],
            "regions": [";".join(p.regions) for p in PARAMETERS],
            "description": [p.description for p in PARAMETERS],
        }
    )


def sample_parameters(n: int, rng: np.random.Generator) -> np.ndarray:
    """Identities drawn uniformly from the parameter cube, shape (n, n_parameters)."""
    return rng.uniform(-1.0, 1.0, size=(n, len(PARAMETERS)))


def region_weights(group_weights: dict[str, float]) -> pd.Series:
    """Ground-truth importance of each thesis region for observers with these group weights."""
    return region_weights_from_parameters({p.name: group_weights[p.group] for p in PARAMETERS})


def region_weights_from_parameters(parameter_weights: dict[str, float]) -> pd.Series:
    """Region importance implied by per-parameter weights (observers' or fitted to a model's choices).

    A parameter's weight is shared equally among the thesis regions it changes; changes outside
    the 12 regions (hair, skin, outline) are not attributed to any region.
    """
    weights = dict.fromkeys(REGIONS, 0.0)
    for p in PARAMETERS:
        inside = [r for r in p.regions if r in weights]
        for r in inside:
            weights[r] += float(parameter_weights[p.name]) / len(inside)
    return pd.Series(weights, name="weight").rename_axis("region")
