"""The explorer: trial table, viewer selection, overlays that match the store, and the site files."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import write_heatmap_store
from PIL import Image

from facesimxai.explorer.site import build_explorer
from facesimxai.explorer.table import select_for_viewer, trial_table
from facesimxai.plotting import overlay_rgba

N, SIZE = 7, 8


def store(path, seed: int, pred: list[int], all_positions: bool = False) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    shape = (N, 3, SIZE, SIZE) if all_positions else (N, SIZE, SIZE)
    dims = ("trial", "position", "y", "x") if all_positions else ("trial", "y", "x")
    logits = rng.normal(size=(N, 3))
    logits[np.arange(N), pred] += 5.0
    ds = xr.Dataset({"relevance": (dims, rng.normal(size=shape).astype(np.float32)),
                     "logits": (("trial", "logit"), logits.astype(np.float32))},
                    coords={"trial_id": ("trial", np.arange(10, 10 + N)), "head1": ("trial", np.full(N, 1)),
                            "head2": ("trial", np.full(N, 2)), "head3": ("trial", np.full(N, 3)),
                            "target_pos": ("trial", np.array(pred, np.int8)),
                            "pred_pos": ("trial", np.array(pred, np.int8)),
                            "human_odd": ("trial", np.array([0, 1, 2, 0, 1, 2, 0], np.int8)),
                            "split": ("trial", np.array(["test"] * N, object))})
    return write_heatmap_store(ds, path)


def test_overlay_is_centred_at_zero_and_transparent_where_relevance_vanishes():
    rel = np.array([[2.0, -2.0], [0.0, 1.0]])
    rgba, limit = overlay_rgba(rel)
    assert limit == 2.0
    assert rgba[0, 0, 0] > rgba[0, 0, 2] and rgba[0, 1, 2] > rgba[0, 1, 0]  # red for +, blue for −
    assert rgba[1, 0, 3] == 0 and rgba[0, 0, 3] == 255 and 0 < rgba[1, 1, 3] < 255
    assert overlay_rgba(np.zeros((2, 2)))[0][..., 3].max() == 0  # an empty map draws nothing
    with pytest.raises(ValueError, match="one 2-D map"):
        overlay_rgba(np.zeros((2, 2, 2)))


def test_trial_table_and_viewer_selection(tmp_path):
    hum = store(tmp_path / "h.zarr", 0, [0, 1, 2, 0, 1, 2, 0])
    maxp = store(tmp_path / "m.zarr", 1, [0, 1, 2, 1, 1, 2, 2])
    table = trial_table({"hum": hum, "maxp": maxp}, vlm=pd.DataFrame({"trial_id": [11], "vlm_pred": [2]}))
    assert table["trial_id"].tolist() == list(range(10, 17))
    assert table["hum_pred"].tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert (table["hum_conf"] > 0.8).all() and (table["hum_conf"] <= 1).all()
    assert table["vlm_pred"].isna().sum() == N - 1 and table.loc[1, "vlm_pred"] == 2
    # models disagree on trials 13 and 16; nobody disagrees with the human otherwise
    assert select_for_viewer(table, ["hum", "maxp"], 3) == [13, 16, 10]
    with pytest.raises(ValueError, match="at least one heatmap store"):
        trial_table({})


@pytest.mark.parametrize("all_positions", [False, True])
def test_site_overlays_match_the_store(tmp_path, all_positions):
    pairs = [("hum", "lrp"), ("maxp", "lrp")]
    ds = {p: store(tmp_path / f"{p[0]}.zarr", i, [0, 1, 2, 0, 1, 2, 0 if i == 0 else 1], all_positions)
          for i, p in enumerate(pairs)}
    faces = {}
    (tmp_path / "faces" / "images").mkdir(parents=True)
    face_maps = np.ones((3, SIZE, SIZE), np.float32)
    face_maps[0] = np.nan  # face 1 was never the explained face: its mean map is undefined
    for p in pairs:
        xr.Dataset({"relevance": (("face", "y", "x"), face_maps),
                    "n_trials": ("face", np.array([0, 5, 6]))},
                   coords={"face_id": ("face", [1, 2, 3])}).to_zarr(tmp_path / f"{p[0]}_f.zarr", consolidated=False)
        faces[p] = tmp_path / f"{p[0]}_f.zarr"
    for f in (1, 2, 3):
        Image.new("RGB", (16, 16), (200, 180, 160)).save(tmp_path / "faces" / "images" / f"{f}.png")
    pd.DataFrame({"face_id": [1, 2, 3], "file": [f"images/{f}.png" for f in (1, 2, 3)]}).to_parquet(
        tmp_path / "faces" / "manifest.parquet")
    regions = pd.DataFrame({"trial_id": [16, 16, 16], "position": [0, 0, 1], "target_pos": [0, 0, 0],
                            "region": ["eyes", "mouth", "eyes"], "share": [0.1, -0.3, 0.9]})
    regions.to_parquet(tmp_path / "r.parquet")
    out = tmp_path / "explorer"
    pd.DataFrame({"trial_id": [10, 16], "vlm": pd.array([pd.NA, 2], dtype="Int64")}).to_parquet(tmp_path / "c.parquet")
    meta = build_explorer({p: tmp_path / f"{p[0]}.zarr" for p in pairs}, faces,
                          {("hum", "lrp"): tmp_path / "r.parquet"}, tmp_path / "faces" / "manifest.parquet", out,
                          max_trials=2, chunk_rows=100, vlm=tmp_path / "c.parquet")
    assert meta["viewer"] == [10, 16] and meta["n_trials"] == N and meta["map_size"] == [SIZE, SIZE]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".explorer")] == []  # no half site left
    assert {"index.html", "trial.html", "face.html", "explorer.js", "style.css"} <= {p.name for p in out.iterdir()}
    # overlays exist only for the selected trials, at the store's size, red where R is largest
    pngs = sorted((out / "img" / "overlays" / "hum" / "lrp").glob("*.png"))
    assert {p.name.split("_")[0] for p in pngs} == {"10", "16"} and len(pngs) == (6 if all_positions else 2)
    rel = ds[("hum", "lrp")]["relevance"].to_numpy()[6]
    target = 0  # trial 16 (index 6) of the hum store
    want = rel[target] if all_positions else rel
    with Image.open(out / "img" / "overlays" / "hum" / "lrp" / f"16_{target}.png") as im:
        got = np.asarray(im)
    assert got.shape == (SIZE, SIZE, 4)
    hi, lo = np.unravel_index(want.argmax(), want.shape), np.unravel_index(want.argmin(), want.shape)
    assert got[hi][0] > got[hi][2] and got[lo][2] > got[lo][0]
    trial_js = (out / "data" / "trial" / "16.js").read_text()
    assert '"vlm_pred":2.0' in trial_js and '"vlm_pred":null' in (out / "data" / "trial" / "10.js").read_text()
    assert '"regions":[["mouth",-0.3],["eyes",0.1]]' in trial_js  # target face only, by |share|
    assert re.search(r'"prev":10,"next":null', trial_js) is None and '"prev":null,"next":10' in trial_js
    assert (out / "img" / "faces" / "maxp_lrp_3.png").exists() and (out / "img" / "faces" / "2.png").exists()
    assert not (out / "img" / "faces" / "maxp_lrp_1.png").exists()  # regression: NaN map crashed the build
    # a store with other trials is refused by name, and no half-written site replaces the good one
    other = ds[("hum", "lrp")].assign_coords(trial_id=("trial", np.arange(100, 100 + N)))
    write_heatmap_store(other, tmp_path / "other.zarr")
    with pytest.raises(ValueError, match="other.zarr lacks 2 trials"):
        build_explorer({("hum", "lrp"): tmp_path / "hum.zarr", ("hum", "lrp_plus"): tmp_path / "other.zarr"},
                       {}, {}, tmp_path / "faces" / "manifest.parquet", out, max_trials=2)
    assert (out / "index.html").exists() and meta["viewer"] == [10, 16]


def test_without_verification_the_pair_table_is_empty_and_says_so(tmp_path):
    """A run with verification.enabled false still gets the pair table's data file, empty and
    marked disabled (the page then says the run has no verification stage)."""
    import json

    from facesimxai.explorer.pairs import write_pair_pages

    assert write_pair_pages(tmp_path, None) == {"n_pairs": 0, "viewer": []}
    data = json.loads(re.search(r"FSX\.setPairs\((.*)\);", (tmp_path / "data" / "pairs.js").read_text()).group(1))
    assert data["enabled"] is False and data["rows"] == [] and data["viewer"] == []
