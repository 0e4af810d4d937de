"""Synthetic face renderer: determinism and the locality of every parameter."""

import numpy as np
import pytest
from scipy import ndimage

from facesimxai.data.face_params import PARAMETERS, parameter_table, sample_parameters
from facesimxai.data.render import PART_OBJECTS, object_masks, render_face
from facesimxai.data.synthetic import Augmentation, analysis_faces, pretrain_renders
from facesimxai.vocabulary import REGIONS

SIZE = 224


def test_same_seed_gives_byte_identical_renders():
    a, pa = analysis_faces(3, seed=7, size=SIZE)
    b, pb = analysis_faces(3, seed=7, size=SIZE)
    c, _ = analysis_faces(3, seed=8, size=SIZE)
    assert a.dtype == np.uint8 and a.shape == (3, SIZE, SIZE, 3)
    assert a.tobytes() == b.tobytes() and np.array_equal(pa, pb)
    assert not np.array_equal(a, c)


def test_pretrain_renders_do_not_depend_on_worker_count():
    aug = Augmentation()
    one, ids, _, _ = pretrain_renders(9, 2, seed=3, size=64, aug=aug, workers=1)
    two, ids2, _, _ = pretrain_renders(9, 2, seed=3, size=64, aug=aug, workers=2)
    assert one.tobytes() == two.tobytes() and np.array_equal(ids, ids2)
    # Augmentation really varies the renders of one identity.
    assert np.abs(one[0].astype(int) - one[1].astype(int)).mean() > 2


def _allowed(part: str, params_a, params_b, margin: int = 2) -> np.ndarray:
    ma, mb = object_masks(params_a, size=SIZE), object_masks(params_b, size=SIZE)
    allowed = np.zeros((SIZE, SIZE), bool)
    for obj, kind in PART_OBJECTS[part]:
        a, b = ma[obj], mb[obj]
        if kind == "area":
            allowed |= a | b
        else:  # an edge moved: its two boundaries and the band between them
            edges = (a ^ ndimage.binary_erosion(a)) | (b ^ ndimage.binary_erosion(b))
            allowed |= edges | (a ^ b)
    return ndimage.binary_dilation(allowed, iterations=margin)


@pytest.mark.parametrize("param", PARAMETERS, ids=lambda p: p.name)
def test_parameter_changes_pixels_only_in_its_neighbourhood(param):
    rng = np.random.default_rng(0)
    base = sample_parameters(1, rng)[0] * 0.5
    j = [p.name for p in PARAMETERS].index(param.name)
    lo, hi = base.copy(), base.copy()
    lo[j], hi[j] = -0.9, 0.9
    diff = np.abs(render_face(lo, size=SIZE).astype(int) - render_face(hi, size=SIZE).astype(int))
    changed = diff.max(axis=2) > 2
    assert changed.sum() > 20, f"{param.name} changes almost nothing"
    allowed = np.zeros_like(changed)
    for part in param.parts:
        allowed |= _allowed(part, lo, hi)
    outside = changed & ~allowed
    assert outside.sum() == 0, f"{param.name} changes {outside.sum()} pixels outside {param.parts}"


def test_parameter_table_documents_every_parameter():
    table = parameter_table()
    assert list(table["parameter"]) == [p.name for p in PARAMETERS]
    known = set(REGIONS) | {"hair", "skin", "face_outline"}
    for regions in table["regions"]:
        assert set(regions.split(";")) <= known


def test_wrong_parameter_count_is_rejected():
    with pytest.raises(ValueError, match="expected 17 face parameters"):
        render_face(np.zeros(3))
    with pytest.raises(KeyError, match="unknown face parameters"):
        render_face({"nose_lenght": 1.0})


def test_colour_jitter_moves_only_skin_and_hair_colour_per_render():
    """Pretraining nuisance: a render's skin tone and hair colour scatter around its identity's, so
    colour alone no longer identifies a person; every other parameter stays the identity's."""
    from facesimxai.data.face_params import PARAMETER_NAMES

    aug = Augmentation(colour_jitter=0.5, channel_gain=0.1)
    _, ids, params, per_render = pretrain_renders(5, 3, seed=3, size=32, aug=aug, workers=1)
    colour = [PARAMETER_NAMES.index("skin_tone"), PARAMETER_NAMES.index("hair_color")]
    other = [i for i in range(len(PARAMETER_NAMES)) if i not in colour]
    np.testing.assert_array_equal(per_render[:, other], params[ids][:, other])
    assert np.abs(per_render[:, colour] - params[ids][:, colour]).mean() > 0.1
