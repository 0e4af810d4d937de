"""Images a VLM sees: faces as RGB at a fixed size, and a face with its signed heatmap overlaid.

The thesis sent OpenCV's BGR arrays as if they were RGB; everything here goes through PIL in RGB.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from facesimxai.plotting import overlay_rgba
from facesimxai.vlm.prompts import MIN_IMAGE_SIDE


def face_image(rgb: np.ndarray, size: int) -> Image.Image:
    """An (H, W, 3) uint8 RGB face as a `size`² PIL image."""
    if size < MIN_IMAGE_SIDE:
        raise ValueError(f"config key vlm.image_size: {size} px is below {MIN_IMAGE_SIDE} px (Qwen2-VL fails on it)")
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"a face image must be (H, W, 3) uint8 RGB, got {arr.shape} {arr.dtype}")
    return Image.fromarray(arr, mode="RGB").resize((size, size), Image.Resampling.BICUBIC)


def heatmap_overlay(face: Image.Image, relevance: np.ndarray) -> Image.Image:
    """The face with the explorer's overlay (same colours and opacity) resized onto it, as RGB."""
    rgba, _ = overlay_rgba(relevance)
    layer = Image.fromarray(rgba, mode="RGBA").resize(face.size, Image.Resampling.BILINEAR)
    return Image.alpha_composite(face.convert("RGBA"), layer).convert("RGB")
