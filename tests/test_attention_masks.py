"""Seed 002's masks and selection metrics on hand-made maps and embeddings, and attention rollout
on toy attention stacks with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facesimxai.explain.rollout import rollout, rollout_map
from facesimxai.verification.attention_masks import (
    attention_heatmap,
    combine,
    explain_pair,
    otsu_mask,
    removed_area,
    selection_metric,
    sm_table,
)


def _blob(size: int, rows: slice, cols: slice, high: float = 1.0) -> np.ndarray:
    a = np.full((size, size), 0.1)
    a[rows, cols] = high
    return a


def test_otsu_keeps_the_bright_blob_and_nothing_of_a_constant_map():
    a = _blob(16, slice(2, 6), slice(2, 6))
    m = otsu_mask(a)
    assert m.sum() == 16 and m[2:6, 2:6].all()
    assert not otsu_mask(np.ones((8, 8))).any()


def test_oim_um_and_n_ium_are_intersection_union_and_symmetric_difference():
    p = np.zeros((4, 4), bool)
    g = np.zeros((4, 4), bool)
    p[:2, :3] = True  # 6 pixels
    g[:2, 1:] = True  # 6 pixels, 4 shared
    assert combine(p, g, "OIM").sum() == 4
    assert combine(p, g, "UM").sum() == 8
    assert combine(p, g, "N-IUM").sum() == 4 and not (combine(p, g, "N-IUM") & p & g).any()
    assert removed_area(combine(p, g, "UM")) == 0.5
    with pytest.raises(ValueError, match="OIM, UM, N-IUM"):
        combine(p, g, "IOU")


def test_selection_metrics_follow_the_paper():
    # d = 2; masking moves each side to 3 (PG) and 4 (PP); RA 0.25: SM+ = (0.5 + 1) / 0.5 = 3
    assert selection_metric(2.0, 3.0, 4.0, 0.0, 0.25, positive=True) == pytest.approx(3.0)
    # negative: both masked, the distance falls from 2 to 1 over RA 0.5: SM- = 0.5 / 0.5 = 1
    assert selection_metric(2.0, 0.0, 0.0, 1.0, 0.5, positive=False) == pytest.approx(1.0)
    assert np.isnan(selection_metric(2.0, 3.0, 4.0, 0.0, 0.0, positive=True))


def test_heatmap_averages_shared_pixels_and_keeps_one_map_elsewhere():
    pa, ga = np.full((4, 4), 0.2), np.full((4, 4), 0.6)
    pm = np.zeros((4, 4), bool)
    gm = np.zeros((4, 4), bool)
    pm[0, :2] = True
    gm[0, 1:3] = True
    heat = attention_heatmap(pa, ga, pm, gm, pm | gm, smooth=False)
    np.testing.assert_allclose(heat[0], [0.2, 0.4, 0.6, 0.0])
    assert heat[1:].sum() == 0
    smooth = attention_heatmap(pa, ga, pm, gm, pm | gm)
    assert smooth.shape == (4, 4) and smooth.sum() > 0


class RegionMean(torch.nn.Module):
    """Embedding = mean of each image quadrant (4 numbers): removing a quadrant moves only its entry."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.shape[-1] // 2
        return torch.stack([x[..., :h, :h].mean((1, 2, 3)), x[..., :h, h:].mean((1, 2, 3)),
                            x[..., h:, :h].mean((1, 2, 3)), x[..., h:, h:].mean((1, 2, 3))], 1)


def test_a_pair_whose_identity_lives_where_both_maps_agree_selects_oim():
    """Probe and gallery match except a little noise; both maps light the top-left quadrant, and
    each map also lights a quadrant of its own. Removing the shared quadrant (OIM) moves the
    embeddings most per removed area: SM⁺ selects OIM, and its heatmap lies in that quadrant."""
    size = 16
    g = torch.Generator().manual_seed(0)
    probe = torch.rand(1, size, size, generator=g) + 2
    probe[:, :8, :8] += 6  # what the identity is made of
    gallery = probe + 0.05 * torch.rand(1, size, size, generator=g)
    pa = _blob(size, slice(0, 8), slice(0, 16))  # top half: shared quadrant + top-right
    ga = _blob(size, slice(0, 16), slice(0, 8))  # left half: shared quadrant + bottom-left
    out = explain_pair(RegionMean(), probe, gallery, pa, ga, positive=True)
    assert set(out["techniques"]) == {"OIM", "UM"}
    assert out["techniques"]["OIM"]["RA"] == 0.25 and out["techniques"]["UM"]["RA"] == 0.75
    assert out["selected"] == "OIM"
    heat = out["heatmap"]
    assert heat[:8, :8].sum() > 0.8 * heat.sum()
    # the control: identity in the quadrants only one map lights, so only the union removes it
    other = torch.rand(1, size, size, generator=g) + 2
    other[:, :8, 8:] += 6
    other[:, 8:, :8] += 6
    out = explain_pair(RegionMean(), other, other + 0.05 * torch.rand(1, size, size, generator=g), pa, ga, True)
    assert out["selected"] == "UM"


def test_negative_pairs_score_all_three_techniques_and_the_table_averages_them():
    size = 16
    g = torch.Generator().manual_seed(1)
    probe, gallery = torch.rand(1, size, size, generator=g), torch.rand(1, size, size, generator=g) + 1
    pa, ga = _blob(size, slice(0, 8), slice(0, 16)), _blob(size, slice(0, 16), slice(0, 8))
    neg = explain_pair(RegionMean(), probe, gallery, pa, ga, positive=False)
    pos = explain_pair(RegionMean(), probe, gallery, pa, ga, positive=True)
    assert set(neg["techniques"]) == {"OIM", "UM", "N-IUM"}
    assert neg["techniques"]["N-IUM"]["RA"] == 0.5
    table = sm_table([neg, pos, neg], [False, True, False])
    assert table["negative"]["N-IUM"] == pytest.approx(neg["techniques"]["N-IUM"]["SM"])
    assert table["positive"]["UM"] == pytest.approx(pos["techniques"]["UM"]["SM"])


def test_rollout_of_identity_attention_stays_on_the_class_token():
    eye = torch.eye(5)[None, None].repeat(2, 3, 1, 1)
    r = rollout([eye, eye, eye])
    torch.testing.assert_close(r, torch.eye(5).expand(2, 5, 5))


def test_rollout_follows_the_class_token_to_the_patch_it_attends():
    """One layer where the class token attends only to patch 3 (token 4): half its rollout mass stays
    on itself (the residual), half goes to that patch; the map peaks there."""
    t = 5  # class token + a 2 x 2 grid
    a = torch.eye(t)[None, None].clone()
    a[0, 0, 0] = 0
    a[0, 0, 0, 4] = 1
    r = rollout([a])
    torch.testing.assert_close(r[0, 0], torch.tensor([0.5, 0, 0, 0, 0.5]))
    m = rollout_map([a], grid=2, image_size=2)
    assert m.shape == (1, 2, 2) and m[0, 1, 1] == m.max() and m[0, 0, 0] == 0
    # rows of every rollout stay distributions
    rand = torch.rand(1, 2, t, t).softmax(-1)
    torch.testing.assert_close(rollout([rand, rand]).sum(-1), torch.ones(1, t))
    with pytest.raises(ValueError, match="grid"):
        rollout_map([a], grid=3, image_size=6)
