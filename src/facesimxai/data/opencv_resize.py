"""OpenCV's ``cv2.resize(image, (w, h))`` (INTER_LINEAR, 8-bit) bit for bit, without OpenCV.

FaceSim3D feeds VGG-Face ``cv2.resize(cv2.imread(path), dsize=(224, 224))`` (its
``modeling/VGG/prepare_data.py``, opencv-python 4.5.5). OpenCV is not a dependency of any env here
(it would pull a second libjpeg/libpng next to Pillow's and MediaPipe's own copy), so this module
reproduces that one call in numpy. It is checked against outputs recorded with
opencv-python-headless 4.5.5.64 (tests/data/opencv_resize_reference.json; 5.1 gives the same).

What OpenCV does for 8-bit images with INTER_LINEAR (imgproc/src/resize.cpp):
- an exact 2× downscale in both directions is INTER_AREA: the rounded mean of each 2×2 block;
- otherwise each output coordinate maps to ``f = float32((d + 0.5) · src/dst − 0.5)``, split into
  ``floor(f)`` and a fraction; the fractions become 11-bit fixed-point weights
  ``round((1 − frac) · 2048)`` and ``round(frac · 2048)``; horizontally the weights are set to (1, 0)
  outside the image (clamped), vertically the rows are clamped but the weights are kept;
- the horizontal pass sums in exact integers; the vertical pass rounds in the way of its SIMD
  kernel, ``(((S0 >> 4) · b0 >> 16) + ((S1 >> 4) · b1 >> 16) + 2) >> 2``, which its scalar tail
  repeats, so the result does not depend on the CPU.
"""

from __future__ import annotations

import numpy as np

_COEF_SCALE = 2048  # INTER_RESIZE_COEF_SCALE: 11 fractional bits


def _taps(src: int, dst: int, clamp_weights: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source index and the two fixed-point weights of each output coordinate along one axis."""
    scale = 1.0 / (dst / src)  # OpenCV stores dst/src and inverts it, in double precision
    f = ((np.arange(dst) + 0.5) * scale - 0.5).astype(np.float32)
    s = np.floor(f).astype(np.int64)
    frac = (f - s.astype(np.float32)).astype(np.float32)
    if clamp_weights:
        outside = (s < 0) | (s >= src - 1)
        frac[outside] = 0
        s = np.clip(s, 0, src - 1)
    w0 = np.rint((np.float32(1) - frac) * np.float32(_COEF_SCALE)).astype(np.int64)
    w1 = np.rint(frac * np.float32(_COEF_SCALE)).astype(np.int64)
    return s, w0, w1


def resize_linear_like_opencv(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``cv2.resize(image, (width, height))`` for a uint8 (H, W, C) image, same bytes."""
    if image.dtype != np.uint8 or image.ndim != 3:
        raise ValueError(f"expected a uint8 (height, width, channels) image, got {image.dtype} {image.shape}")
    src_h, src_w, channels = image.shape
    x = image.astype(np.int64)
    if src_w == 2 * width and src_h == 2 * height:
        blocks = x[0::2, 0::2] + x[0::2, 1::2] + x[1::2, 0::2] + x[1::2, 1::2]
        return ((blocks + 2) >> 2).astype(np.uint8)
    sx, a0, a1 = _taps(src_w, width, clamp_weights=True)
    rows = x[:, sx] * a0[None, :, None] + x[:, np.minimum(sx + 1, src_w - 1)] * a1[None, :, None]
    sy, b0, b1 = _taps(src_h, height, clamp_weights=False)
    top, bottom = rows[np.clip(sy, 0, src_h - 1)], rows[np.clip(sy + 1, 0, src_h - 1)]
    b0, b1 = b0[:, None, None], b1[:, None, None]
    out = ((((top >> 4) * b0) >> 16) + (((bottom >> 4) * b1) >> 16) + 2) >> 2
    return np.clip(out, 0, 255).astype(np.uint8).reshape(height, width, channels)
