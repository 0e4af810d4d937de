"""The region tables' contract: per-region relevance of every map (written by ``regions.relevance``).

``results/regions/{model}/{explainer}_trials.parquet`` (and ``.csv``), one row per map × region:

============== =========================================================================
model          model id (``hum``, ``maxp``, ...)
explainer      explainer name from ``explain.explainers``
trial_id       the trial (``judgments/trials.parquet``)
split          train / val / test
target_pos     position whose output is explained; pred_pos, human_odd as in the store
position       position of the map's face (= target_pos unless the store keeps all positions)
face_id        the face at ``position``
region         one of the 12 landmark regions (categorical, in the regions' order)
sum, mean      summed signed relevance; sum / region area (the thesis's score)
pos_sum        summed positive relevance; neg_sum: summed negative relevance
share          sum / total |R| of the map (signed, comparable across models)
abs_share      |R| in the region / total |R| of the map
============== =========================================================================

``{explainer}_faces.parquet``: the same metrics of each face's mean map, keyed by face_id and
n_trials instead of the trial columns.
"""

from __future__ import annotations

import pandas as pd

#: The per-region scores of every row.
METRICS = ("sum", "mean", "pos_sum", "neg_sum", "share", "abs_share")
#: The per-trial columns every map's rows repeat.
TRIAL_COLUMNS = ("trial_id", "target_pos", "pred_pos", "human_odd")


def target_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of the explained face (``position == target_pos``)."""
    return table[table["position"] == table["target_pos"]]


def trials_of(table: pd.DataFrame) -> pd.DataFrame:
    """One row per trial: trial_id, target_pos, pred_pos, human_odd, sorted by trial_id."""
    return target_rows(table).drop_duplicates("trial_id")[list(TRIAL_COLUMNS)].sort_values("trial_id")


def ranked_shares(shares: pd.DataFrame) -> list[list]:
    """[region, signed share] pairs of one map's rows, largest |share| first (ties keep table order)."""
    order = shares.reindex(shares["share"].abs().sort_values(ascending=False, kind="stable").index)
    return [[r, round(float(s), 4)] for r, s in zip(order["region"], order["share"], strict=True)]
