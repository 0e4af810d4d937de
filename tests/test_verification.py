"""Face verification (issue 26): X-Maps against hand computations, error rates with known answers,
and the LFW pairs-file reader on both line formats and on bad lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from facesimxai.explain.occlusion import OcclusionSettings
from facesimxai.verification.figures import blend
from facesimxai.verification.metrics import equal_error_rate, error_curves, per_fold_metrics, verification_metrics
from facesimxai.verification.pairs import PairsFileError, read_lfw_pairs, synthetic_pairs
from facesimxai.verification.xmaps import (
    cosine_distance,
    distance_sets,
    occluded_embeddings,
    scale_to_unit,
    xmaps,
)

SIZE = 4


def halves(x: torch.Tensor) -> torch.Tensor:
    """A 2-unit embedding: the sums of the left and right image halves (1 channel)."""
    return torch.stack([x[:, 0, :, : SIZE // 2].sum((1, 2)), x[:, 0, :, SIZE // 2:].sum((1, 2))], dim=1)


def image(left: float, right: float) -> torch.Tensor:
    img = torch.zeros(1, SIZE, SIZE)
    img[0, :, : SIZE // 2], img[0, :, SIZE // 2:] = left, right
    return img


# one 2×2 patch moved by 2 px: four patches, each inside one half (top-left, top-right, ...)
ONE_SIZE = OcclusionSettings(patches=(2 / SIZE,), stride=2 / SIZE, blur=False)


def cos_d(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return 1 - a @ b / np.linalg.norm(a) / np.linalg.norm(b)


def test_xmap_methods_match_a_hand_computation():
    """I1 = halves (1, 1) → embedding (8, 8); I2 = (1, 3) → (8, 24). Occluding a 2×2 patch of a
    half (black fill 0) removes 4 from that half's unit: left patches give (4, 8) for I1."""
    a = occluded_embeddings(halves, image(1, 1), torch.zeros(1, SIZE, SIZE), ONE_SIZE)
    b = occluded_embeddings(halves, image(1, 3), torch.zeros(1, SIZE, SIZE), ONE_SIZE)
    np.testing.assert_allclose(a.intact, [8, 8])
    corners = [tuple(c) for c in a.corners[0]]
    assert corners == [(0, 0), (0, 2), (2, 0), (2, 2)]
    f1 = {c: np.array([4, 8]) if c[1] == 0 else np.array([8, 4]) for c in corners}
    f2 = {c: np.array([4, 24]) if c[1] == 0 else np.array([8, 12]) for c in corners}
    d_orig = cos_d([8, 8], [8, 24])

    # method 2 (Eq. 7): occluded I1 against intact I2; Eq. 9 with one patch per pixel, N = 4
    d1, d2 = distance_sets(a.embeddings[0], b.embeddings[0], a.intact, b.intact, 2)
    np.testing.assert_allclose(d1, [cos_d(f1[c], [8, 24]) for c in corners])
    np.testing.assert_allclose(d2, [cos_d([8, 8], f2[c]) for c in corners])
    s1, s2 = xmaps(a, b, 2, blur=False, scale=False)
    want_left = (cos_d([4, 8], [8, 24]) - d_orig) / 4 / 4  # Eq. 9 (/N) and Eq. 10 (/p², one size)
    want_right = (cos_d([8, 4], [8, 24]) - d_orig) / 4 / 4
    np.testing.assert_allclose(s1[:, :2], want_left)
    np.testing.assert_allclose(s1[:, 2:], want_right)
    # occluding I1's left half makes it more like I2 (right-heavy): distance falls, "dissimilar" < 0
    assert want_left < 0 < want_right

    # method 1 (Eq. 6): mean over all occluded versions of the other image
    m1, _ = distance_sets(a.embeddings[0], b.embeddings[0], a.intact, b.intact, 1)
    np.testing.assert_allclose(m1[0], np.mean([cos_d(f1[(0, 0)], f2[c]) for c in corners]))
    # method 3 (Eq. 8): co-located occlusions, one map for both images
    m3a, m3b = distance_sets(a.embeddings[0], b.embeddings[0], a.intact, b.intact, 3)
    np.testing.assert_allclose(m3a, [cos_d(f1[c], f2[c]) for c in corners])
    t1, t2 = xmaps(a, b, 3, blur=False)
    np.testing.assert_array_equal(t1, t2)
    assert np.abs(t1).max() == pytest.approx(1.0)


def test_patch_sizes_are_averaged_with_inverse_area_weights():
    """Eq. 10: two sizes, each map divided by p² and by the number of sizes."""
    two = OcclusionSettings(patches=(1 / SIZE, 2 / SIZE), stride=1 / SIZE, blur=False)
    one_a = OcclusionSettings(patches=(1 / SIZE,), stride=1 / SIZE, blur=False)
    one_b = OcclusionSettings(patches=(2 / SIZE,), stride=1 / SIZE, blur=False)
    fill = torch.zeros(1, SIZE, SIZE)
    maps = {}
    for name, st in (("two", two), ("a", one_a), ("b", one_b)):
        a = occluded_embeddings(halves, image(1, 1), fill, st)
        b = occluded_embeddings(halves, image(1, 3), fill, st)
        maps[name] = xmaps(a, b, 2, blur=False, scale=False)[0]
    np.testing.assert_allclose(maps["two"], (maps["a"] + maps["b"]) / 2)


def test_an_image_against_itself_is_similar_everywhere_and_noise_is_not_scaled_up():
    a = occluded_embeddings(halves, image(1, 2), torch.zeros(1, SIZE, SIZE), ONE_SIZE)
    # method 3: co-located occlusions stay identical, so the raw map is rounding noise, and
    # scaling to [-1, 1] must not blow it up to ±1
    np.testing.assert_array_equal(xmaps(a, a, 3, blur=False)[0], 0)
    # method 2: any occlusion moves the image away from its intact self: similar (> 0) everywhere
    assert (xmaps(a, a, 2, blur=False)[0] > 0).all()
    np.testing.assert_allclose(scale_to_unit(np.array([-2.0, 0.0, 1.0])), [-1, 0, 0.5])
    assert cosine_distance(np.array([1.0, 0]), np.array([0, 2.0])) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="method must be one of"):
        distance_sets(a.embeddings[0], a.embeddings[0], a.intact, a.intact, 4)


def test_blend_keeps_the_faces_lightness_and_colours_by_the_map():
    face = np.full((2, 2, 3), 128, np.uint8)
    out = blend(face, np.array([[1.0, -1.0], [0.0, 1.0]]))
    assert out[0, 0, 1] > out[0, 0, 0]  # similar: green
    assert out[0, 1, 0] > out[0, 1, 1]  # dissimilar: red
    lum = (out.max(-1).astype(int) + out.min(-1)) / 2
    np.testing.assert_allclose(lum, 128, atol=1)  # HLS lightness of the face (grey 128)


def test_eer_and_fnmr_on_scores_with_a_known_answer():
    """Genuine scores 1..10, impostor scores -4.5..4.5 (step 1). At threshold t the FMR is the
    share of impostors ≥ t, the FNMR the share of genuine < t: for t in (2.5, 3] both are 0.2."""
    genuine_scores = np.arange(1, 11, dtype=float)
    impostor_scores = np.arange(1, 11, dtype=float) - 5.5
    scores = np.r_[genuine_scores, impostor_scores]
    genuine = np.r_[np.ones(10, bool), np.zeros(10, bool)]
    m = verification_metrics(scores, genuine, fmr_targets=(0.1, 0.01))
    c = error_curves(scores, genuine)
    # brute force: FMR and FNMR at every midpoint threshold; the EER lies between their crossing values
    grid = np.linspace(-6, 12, 3601)
    fmr = np.array([(impostor_scores >= t).mean() for t in grid])
    fnmr = np.array([(genuine_scores < t).mean() for t in grid])
    k = np.argmin(np.abs(fmr - fnmr))
    assert min(fmr[k], fnmr[k]) <= m["eer"] <= max(fmr[k], fnmr[k]) + 1e-12
    assert m["eer"] == pytest.approx(0.2)
    assert m["auc"] == pytest.approx(0.9)  # genuine 1-4 beat 6-9 impostors, 5-10 beat all: 90 of 100
    assert m["fnmr_at_fmr"]["0.1"] == pytest.approx(0.3)  # t = 4 accepts one impostor (4.5), rejects 1-3
    assert m["fnmr_at_fmr"]["0.01"] is None and m["min_resolvable_fmr"] == 0.1
    eer, _ = equal_error_rate(c["fmr"], c["fnmr"], c["threshold"])
    assert eer == m["eer"]


def test_perfect_separation_has_zero_eer_and_folds_are_reported():
    scores = np.r_[np.linspace(0.6, 1, 20), np.linspace(-1, 0.4, 20)]
    genuine = np.r_[np.ones(20, bool), np.zeros(20, bool)]
    folds = np.tile([0, 1], 20)
    out = per_fold_metrics(scores, genuine, folds)
    assert out["pooled"]["eer"] == pytest.approx(0.0) and out["pooled"]["auc"] == 1.0
    assert set(out["folds"]) == {"0", "1"} and out["folds"]["0"]["n_impostor"] == 10


LFW = "2\t2\nAbel\t1\t2\nBeth\t3\t1\nAbel\t1\tCarl\t2\nBeth\t2\tDora\t4\n" \
      "Eve\t1\t2\nFinn\t1\t3\nEve\t2\tGus\t1\nFinn\t2\tHal\t1\n"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_lfw_pairs_file_both_line_formats_and_folds(tmp_path, newline):
    path = tmp_path / "pairs.txt"
    path.write_bytes(LFW.replace("\n", newline).encode())
    df = read_lfw_pairs(path)
    assert len(df) == 8 and df["genuine"].tolist() == [True, True, False, False] * 2
    assert df["fold"].tolist() == [0] * 4 + [1] * 4
    assert df.loc[0, ["image_a", "image_b"]].tolist() == ["Abel/Abel_0001.jpg", "Abel/Abel_0002.jpg"]
    assert df.loc[3, ["image_a", "image_b"]].tolist() == ["Beth/Beth_0002.jpg", "Dora/Dora_0004.jpg"]
    assert df.loc[3, "line"] == 5


def test_dev_train_header_is_one_set(tmp_path):
    path = tmp_path / "pairsDevTrain.txt"
    path.write_text("1\nAbel\t1\t2\nAbel\t1\tCarl\t2\n")
    df = read_lfw_pairs(path)
    assert df["fold"].tolist() == [0, 0] and df["genuine"].tolist() == [True, False]


@pytest.mark.parametrize(("text", "message"), [
    ("2\t2\nAbel\t1\t2\n", r"promises 2 set\(s\) of 2 matched .* \(8 lines\), the file has 1"),
    ("1\t1\nAbel\t1\nAbel\t1\tCarl\t2\n", r"line 2: a matched pair needs 'name n1 n2'"),
    ("1\t1\nAbel\t1\t2\nAbel\t1\tCarl\n", r"line 3: a mismatched pair needs"),
    ("1\t1\nAbel\tx\t2\nAbel\t1\tCarl\t2\n", r"line 2: image number 'x'"),
    ("ten\nAbel\t1\t2\n", r"line 1: header"),
])
def test_bad_pairs_files_are_refused_naming_file_and_line(tmp_path, text, message):
    path = tmp_path / "pairs.txt"
    path.write_text(text)
    with pytest.raises(PairsFileError, match=message) as info:
        read_lfw_pairs(path)
    assert str(path) in str(info.value)


def test_synthetic_pairs_are_balanced_seeded_and_fold_disjoint_by_identity():
    identity = np.repeat(np.arange(20), 4)
    df = synthetic_pairs(identity, n_pairs=30, n_folds=3, seed=5)
    assert df["genuine"].sum() == 30 and (~df["genuine"]).sum() == 30
    same = identity[df["a"]] == identity[df["b"]]
    assert (same == df["genuine"]).all() and (df["a"] != df["b"]).all()
    folds_of_identity = {}
    for _, r in df.iterrows():
        for i in (identity[r["a"]], identity[r["b"]]):
            folds_of_identity.setdefault(i, set()).add(r["fold"])
    assert all(len(f) == 1 for f in folds_of_identity.values())
    assert not df[["a", "b"]].duplicated().any()
    assert df.equals(synthetic_pairs(identity, n_pairs=30, n_folds=3, seed=5))
    assert not df.equals(synthetic_pairs(identity, n_pairs=30, n_folds=3, seed=6))


def test_thresholds_come_from_the_other_folds_only():
    """Fold 0 alone would put its threshold at 0.5; folds 1-2 put it at 0: fold 0 must get 0."""
    from facesimxai.verification.calibration import best_threshold, cross_fold_thresholds

    scores = np.r_[0.6, 0.7, 0.3, 0.4, 0.1, 0.2, -0.2, -0.1, 0.1, 0.2, -0.2, -0.1]
    genuine = np.r_[True, True, False, False, True, True, False, False, True, True, False, False]
    folds = np.repeat([0, 1, 2], 4)
    assert best_threshold(scores[:4], genuine[:4]) == pytest.approx(0.5)
    t = cross_fold_thresholds(scores, genuine, folds)
    assert t[0] == pytest.approx(0.0) and best_threshold(scores[4:], genuine[4:]) == pytest.approx(0.0)


def test_c_score_is_eq_3_of_the_fitted_curve_and_grows_away_from_the_threshold():
    from facesimxai.verification.calibration import c_score, cross_fold_c_scores

    rng = np.random.default_rng(0)
    genuine = np.r_[np.ones(300, bool), np.zeros(300, bool)]
    scores = np.r_[rng.normal(0.6, 0.15, 300), rng.normal(0.2, 0.15, 300)]
    folds = np.arange(600) % 5
    c, clipped = cross_fold_c_scores(scores, genuine, folds, np.full(600, 0.4), n_bins=20)
    assert c.min() >= 0.5 and c.max() <= 1 and clipped < 30
    order = np.argsort(np.abs(scores - 0.4))
    assert c[order[:50]].mean() < 0.7 < 0.95 < c[order[-50:]].mean()
    # Eq. 3 by hand on a curve that is 1 / (1 + exp(-10 (s - 0.4))): accepted c, rejected 1 - c
    params = np.array([1.0, 0.4, 10.0, 0.0])
    got, n = c_score(np.array([0.6, 0.2]), 0.4, params)
    np.testing.assert_allclose(got, [1 / (1 + np.exp(-2)), 1 - 1 / (1 + np.exp(2))])
    assert n == 0


def test_one_group_pairs_change_only_that_groups_pixels():
    """The truth masks: a brow change touches a small part of the face, a skin change a large one,
    and the base faces are the same in every pair of a base."""
    from facesimxai.verification.truth import change_mask, single_group_pairs, truth_scores

    bases, changed, table = single_group_pairs(1, seed=0, image_size=64)
    assert len(bases) == 1 and len(changed) == 7 and table["base"].eq(0).all()
    area = {g: change_mask(bases[0], changed[k], 64).mean() for k, g in enumerate(table["group"])}
    assert 0 < area["brows"] < 0.1 < area["skin"] and all(a > 0 for a in area.values())
    mask = np.zeros((4, 4), bool)
    mask[0, 0] = True
    smap = np.zeros((4, 4))
    smap[0, 0], smap[3, 3] = -1.0, -1.0 / 3
    got = truth_scores(smap, mask)
    assert got == {"hit": True, "dissimilar_share": pytest.approx(0.75), "area_share": 1 / 16}
    assert truth_scores(np.ones((4, 4)), mask)["hit"] is False  # no dissimilar point at all: no hit


def test_region_techniques_on_a_pair_credit_only_the_region_the_embedding_reads():
    """An embedding that reads only region 1's pixels: removing any other region changes nothing,
    so every technique gives them 0, and region 1 gets the whole similarity change."""
    from facesimxai.verification.regions import PairScorer, pair_region_table, pair_sentence

    masks = np.zeros((3, 4, 4), bool)
    masks[0, :2, :2], masks[1, :2, 2:], masks[2, 2:, :] = True, True, True
    region = torch.from_numpy(masks[1])

    def embed(x: torch.Tensor) -> torch.Tensor:  # (n, 1, 4, 4) -> 2 units from region 1 only
        v = x[:, 0][:, region]
        return torch.stack([v.sum(1) + 0.1, (v * torch.tensor([4.0, -4.0, 2.0, -2.0])).sum(1)], dim=1)

    a = torch.arange(16.0).reshape(1, 4, 4) / 16
    b = torch.flip(a, dims=(2,))
    zero = torch.zeros(1, 4, 4)
    table = pair_region_table(PairScorer(embed, (a, b), (zero, zero), (masks, masks)), ["r0", "r1", "r2"])
    imp = table.pivot(index="technique", columns="region", values="importance")
    np.testing.assert_allclose(imp[["r0", "r2"]].to_numpy(), 0, atol=1e-12)
    full = float(torch.nn.functional.cosine_similarity(embed(a[None]).double(), embed(b[None]).double()))
    blank = float(torch.nn.functional.cosine_similarity(embed(zero[None]).double(), embed(zero[None]).double()))
    assert abs(full - blank) > 1e-3
    np.testing.assert_allclose(imp.loc[["single_removal", "greedy_removal"], "r1"], full - blank)
    np.testing.assert_allclose(imp.loc["average", "r1"], np.sign(full - blank))
    row = pd.Series({"pair_id": 7, "similarity": 0.9, "threshold": 0.5, "accepted": True, "correct": False,
                     "c_score": 0.8})
    text = pair_sentence(row, table.assign(pair_id=7))
    assert text.startswith("Pair 7: similarity 0.90 is at or above the threshold 0.50, so the model says the same "
                           "person (wrong; C-Score 0.80).")


def test_similarity_curves_start_at_the_pair_and_end_at_the_baselines():
    from facesimxai.verification.xmaps import similarity_curves

    def emb(x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :3] + 0.1

    a, b = torch.rand(1, 4, 4, generator=torch.Generator().manual_seed(0)), torch.rand(1, 4, 4)
    za, zb = torch.zeros(1, 4, 4), torch.ones(1, 4, 4)
    order = np.arange(16)
    deletion, insertion = similarity_curves(emb, (a, b), (za, zb), (order, order), steps=4)
    cos = torch.nn.functional.cosine_similarity
    assert deletion[0] == pytest.approx(float(cos(emb(a[None]).double(), emb(b[None]).double())))
    assert deletion[-1] == pytest.approx(float(cos(emb(za[None]).double(), emb(zb[None]).double())))
    assert insertion[0] == pytest.approx(deletion[-1]) and insertion[-1] == pytest.approx(deletion[0])
    # the first quarter (pixels 0-3) holds the embedding's three pixels: one step changes it fully
    assert deletion[1] == pytest.approx(deletion[-1])


def _lfw_folder(root, names_numbers):
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, n in names_numbers:
        (root / name).mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (250, 250, 3), dtype=np.uint8)).save(root / name / f"{name}_{n:04d}.jpg")


def test_lfw_pairs_and_images_go_through_the_face_import(tmp_path):
    from facesimxai.data.faces import FaceInputError
    from facesimxai.io import open_zarr
    from facesimxai.verification.pairs import build_pairs

    images = tmp_path / "lfw"
    _lfw_folder(images, [("Abel", 1), ("Abel", 2), ("Carl", 2)])
    (tmp_path / "pairs.txt").write_text("1\t1\nAbel\t1\t2\nAbel\t1\tCarl\t2\n")
    cfg = {"source": "lfw", "lfw": {"pairs": str(tmp_path / "pairs.txt"), "images": str(images)}}
    pairs = build_pairs(cfg=cfg, augment={}, image_size=64, resize="crop_lanczos", faces_out=tmp_path / "f.zarr",
                        pairs_out=tmp_path / "p.parquet")
    faces = open_zarr(tmp_path / "f.zarr")
    assert faces["image"].shape == (3, 64, 64, 3)
    assert list(faces["name"].values) == ["Abel/Abel_0001.jpg", "Abel/Abel_0002.jpg", "Carl/Carl_0002.jpg"]
    assert pairs[["a", "b", "genuine", "line"]].values.tolist() == [[0, 1, True, 2], [0, 2, False, 3]]
    identity = faces["identity"].to_numpy()
    assert identity[0] == identity[1] != identity[2]
    (tmp_path / "pairs.txt").write_text("1\t1\nAbel\t1\t2\nAbel\t1\tDora\t3\n")
    with pytest.raises(FaceInputError, match=r"pairs.txt, line 3: image .*Dora_0003.jpg does not exist"):
        build_pairs(cfg=cfg, augment={}, image_size=64, resize="crop_lanczos", faces_out=tmp_path / "g.zarr",
                    pairs_out=tmp_path / "q.parquet")
    assert not (tmp_path / "g.zarr").exists() and not (tmp_path / "q.parquet").exists()


def test_unset_lfw_keys_and_too_small_synthetic_sets_are_refused_naming_the_config_keys(tmp_path):
    from facesimxai.verification.pairs import build_pairs

    cfg = {"source": "lfw", "lfw": {"pairs": None, "images": str(tmp_path)}}
    with pytest.raises(PairsFileError, match=r"config key\(s\) verification.lfw.pairs not set"):
        build_pairs(cfg=cfg, augment={}, image_size=64, resize="crop_lanczos", faces_out=tmp_path / "f.zarr",
                    pairs_out=tmp_path / "p.parquet")
    with pytest.raises(ValueError, match="verification.synthetic.n_identities, verification.n_folds"):
        synthetic_pairs(np.repeat(np.arange(4), 3), n_pairs=10, n_folds=3, seed=0)
    with pytest.raises(ValueError, match="config keys verification.n_pairs"):
        synthetic_pairs(np.repeat(np.arange(4), 2), n_pairs=20, n_folds=2, seed=0)
    assert not (tmp_path / "f.zarr").exists() and not (tmp_path / "p.parquet").exists()
