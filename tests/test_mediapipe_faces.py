"""MediaPipe's face mesh must be found on every synthetic analysis face (demo and CI configs)."""

import pytest
from conftest import ROOT, require_module

from facesimxai.config import load_config
from facesimxai.data.synthetic import analysis_faces

face_mesh = require_module("mediapipe").solutions.face_mesh


@pytest.mark.parametrize("config_file", ["config.yaml", "test.yaml"])
def test_face_mesh_found_on_all_analysis_faces(config_file):
    cfg = load_config(ROOT / "config" / config_file)
    syn = cfg["faces"]["synthetic"]
    images, _ = analysis_faces(syn["n_faces"], syn["seed"], cfg["image_size"])
    with face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=1) as mesh:
        found = [mesh.process(img).multi_face_landmarks for img in images]
    missing = [i + 1 for i, f in enumerate(found) if not f]
    assert not missing, f"no face mesh on faces {missing}"
    assert all(len(f[0].landmark) == 478 for f in found)
