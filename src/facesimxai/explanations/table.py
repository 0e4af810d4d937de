"""One row per model × explained trial: the decision, its confidence and the regions behind it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from facesimxai.artifacts.region_tables import ranked_shares, target_rows
from facesimxai.explanations.text import sentence
from facesimxai.io import write_parquet

log = logging.getLogger(__name__)


def top_regions(shares: pd.DataFrame, top_k: int) -> tuple[list, list]:
    """(regions pushing towards the output, regions pushing against it): [region, share] by |share|."""
    ranked = ranked_shares(shares)
    return [p for p in ranked if p[1] > 0][:top_k], [p for p in ranked if p[1] < 0][:top_k]


def explanation_table(confidence: pd.DataFrame, regions: dict[str, pd.DataFrame], explainer: str,
                      top_k: int = 3) -> pd.DataFrame:
    """Rows for trials that have region scores; `regions` maps model → its region-relevance table."""
    rows = []
    for model, reg in regions.items():
        conf = confidence[confidence["model"] == model].set_index("trial_id")
        reg = target_rows(reg)
        missing = sorted(set(reg["trial_id"]) - set(conf.index))
        if missing:
            raise ValueError(f"{model}: {len(missing)} trials of the region table have no prediction "
                             f"(first: {missing[:5]}); re-run the predictions and confidence rules")
        for tid, shares in reg.groupby("trial_id", sort=True):
            c = conf.loc[tid]
            towards, against = top_regions(shares, top_k)
            first = shares.iloc[0]
            rows.append({"model": model, "explainer": explainer, "trial_id": int(tid), "split": c["split"],
                         "pred_pos": int(c["pred_pos"]), "human_odd": int(c["human_odd"]),
                         "target_pos": int(first["target_pos"]), "target_face": int(first["face_id"]),
                         "confidence": float(c["confidence"]), "softmax_conf": float(c["softmax_conf"]),
                         "towards": json.dumps(towards), "against": json.dumps(against)})
    table = pd.DataFrame(rows)
    if len(table):
        table["sentence"] = [sentence(r) for r in table.to_dict("records")]
    return table


def build_explanations(confidence: Path | str, region_tables: dict[str, Path | str], explainer: str, top_k: int,
                       out: Path | str) -> pd.DataFrame:
    conf = pd.read_parquet(confidence)
    regions = {m: pd.read_parquet(p) for m, p in region_tables.items()}
    table = explanation_table(conf, regions, explainer, top_k)
    write_parquet(table, out, csv=True)
    log.info("explanations: %d rows (%s), calibrated confidence for %.0f%%", len(table), explainer,
             100 * float(np.isfinite(table["confidence"]).mean()) if len(table) else 0.0)
    return table
