"""The explorer's verification pages (issue 26): a pair table and, for the X-Map sample, a pair
view like X-Face's platform — both images, each method's X-Maps blended in (Algorithm 2), the
decision, C-Score, region table and sentence. Data go to ``data/pairs.js`` and
``data/pair/<id>.js`` so the pages open from disk like the trial pages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from facesimxai.io import open_zarr

PAIR_COLUMNS = ["pair_id", "fold", "genuine", "similarity", "threshold", "accepted", "correct", "c_score"]


def _js(call: str, payload) -> str:
    return f"{call}({json.dumps(payload, separators=(',', ':'), allow_nan=False)});\n"


def _row(values) -> list:
    out = []
    for v in values:
        if isinstance(v, bool | np.bool_):
            out.append(bool(v))
        elif isinstance(v, np.integer | int):
            out.append(int(v))
        else:
            out.append(round(float(v), 4))
    return out


def write_pair_pages(site: Path, verification: dict | None) -> dict:
    """Write the pair table and pair pages; ``verification`` maps scores, faces, xmaps, regions and
    sentences to their files, or is None when the run has no verification stage."""
    (site / "data" / "pair").mkdir(parents=True, exist_ok=True)
    if verification is None:
        (site / "data" / "pairs.js").write_text(_js("FSX.setPairs", {"columns": PAIR_COLUMNS, "rows": [],
                                                                     "viewer": [], "enabled": False}))
        return {"n_pairs": 0, "viewer": []}
    from facesimxai.verification.figures import blend

    scores = pd.read_parquet(verification["scores"])
    xm = open_zarr(verification["xmaps"])
    images = open_zarr(verification["faces"])["image"]
    regions = pd.read_parquet(verification["regions"])
    sentences = pd.read_parquet(verification["sentences"]).set_index("pair_id")
    viewer = [int(p) for p in xm["pair_id"].values]
    size = xm.sizes["y"]
    (site / "img" / "pairs").mkdir(parents=True, exist_ok=True)
    by_id = scores.set_index("pair_id")
    for k, pid in enumerate(viewer):
        row = by_id.loc[pid]
        faces = {}
        for side, col in enumerate(("a", "b")):
            idx = int(row[col])
            faces[side] = np.asarray(Image.fromarray(images[idx].to_numpy()).resize((size, size), Image.LANCZOS))
            Image.fromarray(faces[side]).save(site / "img" / "pairs" / f"{idx}.png")
        maps = []
        for m, method in enumerate(xm["method"].values):
            srcs = []
            for side in (0, 1):
                name = f"{pid}_m{int(method)}_{'ab'[side]}.png"
                blended = blend(faces[side], xm["xmap"][k, m, side].to_numpy())
                Image.fromarray(blended).save(site / "img" / "pairs" / name)
                srcs.append(f"img/pairs/{name}")
            maps.append({"method": int(method), "src": srcs})
        avg = regions[(regions["pair_id"] == pid) & (regions["technique"] == "average")]
        shares = [[r.region.replace("_", " "), round(float(r.importance), 4)]
                  for r in avg.reindex(avg["importance"].abs().sort_values(ascending=False).index).itertuples()]
        sentence = sentences.loc[pid]
        payload = {"pair_id": pid, **dict(zip(PAIR_COLUMNS[1:], _row(row[PAIR_COLUMNS[1:]]), strict=True)),
                   "images": [f"img/pairs/{int(row['a'])}.png", f"img/pairs/{int(row['b'])}.png"],
                   "image_ids": [int(row["a"]), int(row["b"])], "xmaps": maps, "regions": shares,
                   "sentence": sentence["sentence"], "reason": sentence["reason"],
                   "prev": viewer[k - 1] if k else None, "next": viewer[k + 1] if k + 1 < len(viewer) else None}
        (site / "data" / "pair" / f"{pid}.js").write_text(_js("FSX.setPair", payload))
    rows = [_row(r) for r in scores[PAIR_COLUMNS].itertuples(index=False)]
    (site / "data" / "pairs.js").write_text(_js("FSX.setPairs", {"columns": PAIR_COLUMNS, "rows": rows,
                                                                 "viewer": viewer, "enabled": True}))
    return {"n_pairs": len(rows), "viewer": viewer}
