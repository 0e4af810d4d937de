"""What a removed face region or an integration path starts from: the reference image of each face.

``mean``: the average face — for synthetic faces the mean-parameter render (every parameter 0),
for real stimuli the pixel mean of the stimulus set; ``blur``: each face blurred (Gaussian,
``blur_sigma`` model-input pixels); ``black``: a black image. Region Shapley pastes the reference
into absent regions; integrated gradients integrate from it.
"""

from __future__ import annotations

import numpy as np
import torch

from facesimxai.explain.integrated import blurred
from facesimxai.models.vgg import preprocess

REFERENCES = ("mean", "blur", "black")


def reference_faces(images: np.ndarray, faces: torch.Tensor, kind: str, synthetic: bool, input_size: int,
                    preprocessing: str, blur_sigma: float = 8.0) -> torch.Tensor:
    """(F, C, H, W) reference of each face; ``images`` are the uint8 faces, ``faces`` their model inputs."""
    if kind == "mean":
        if synthetic:
            from facesimxai.data.face_params import PARAMETER_NAMES
            from facesimxai.data.render import render_face

            mean = render_face(np.zeros(len(PARAMETER_NAMES)), size=images.shape[1])[None]
        else:
            mean = np.round(images.astype(np.float64).mean(0)).astype(np.uint8)[None]
        return preprocess(mean, input_size, preprocessing).expand_as(faces).clone()
    if kind == "blur":
        return blurred(faces, blur_sigma)
    if kind == "black":
        black = preprocess(np.zeros((1, *images.shape[1:]), np.uint8), input_size, preprocessing)
        return black.expand_as(faces).clone()
    raise ValueError(f"unknown reference {kind!r} (explainer key baseline); references: {', '.join(REFERENCES)}")
