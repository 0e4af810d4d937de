"""Record tests/data/opencv_resize_reference.json with real OpenCV (not a project dependency).

    pip install --target /tmp/cv2_455 opencv-python-headless==4.5.5.64 --no-deps
    PYTHONPATH=/tmp/cv2_455:tests python tests/data/record_opencv_resize.py

4.5.5.64 is the version FaceSim3D pins (its pyproject.toml). The EXIF test image is written once
here with Pillow and kept as a file, because JPEG encoders differ between versions.
"""

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from test_opencv_resize import CASES, pattern

DATA = Path(__file__).parent


def sha256(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


jpeg = DATA / "exif_rotated.jpg"
if not jpeg.exists():
    im = Image.fromarray(pattern(90, 70))
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    im.save(jpeg, quality=90, exif=exif)
reference = {
    "opencv": cv2.__version__,
    "resize": {"{}x{}-to-{}x{}".format(*c): sha256(cv2.resize(pattern(c[0], c[1]), (c[2], c[3]))) for c in CASES},
    # cv2 returns BGR; the project stores RGB
    "imread_resize": {str(s): sha256(cv2.resize(cv2.imread(str(jpeg)), (s, s))[..., ::-1]) for s in (224, 64)},
}
(DATA / "opencv_resize_reference.json").write_text(json.dumps(reference, indent=1) + "\n")
print(json.dumps(reference, indent=1))
