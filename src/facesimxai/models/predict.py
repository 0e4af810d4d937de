"""Every trial's decision by one triplet model: logits, chosen position, margin, softmax confidence.

The heatmap stores hold logits only for explained trials (the demo explains the test split);
calibration needs validation trials too, and the head on frozen core features is cheap to run.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.special import softmax

from facesimxai.io import write_parquet
from facesimxai.models.train import face_features, load_head, predict

log = logging.getLogger(__name__)


def margin(logits: np.ndarray) -> np.ndarray:
    """Top logit minus the runner-up: 0 for a toss-up, large for a clear decision (the distance
    C-Score calibrates, confidence.cscore)."""
    top2 = np.sort(np.asarray(logits, dtype=np.float64), axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def trial_predictions(features: Path | str, trials: Path | str, head: Path | str, model_name: str,
                      out: Path | str) -> pd.DataFrame:
    feats, _ = face_features(features)
    tr = pd.read_parquet(trials)
    tr = tr[tr["split"].isin(["train", "val", "test"])].reset_index(drop=True)
    model, _ = load_head(head)
    x = torch.from_numpy(feats[tr[["head1", "head2", "head3"]].to_numpy() - 1]).float()
    logits = predict(model, x).numpy().astype(np.float64)
    pred = logits.argmax(1)
    df = pd.DataFrame({"trial_id": tr["trial_id"].to_numpy(), "split": tr["split"].astype(str).to_numpy(),
                       "model": model_name, "pred_pos": pred.astype(np.int8),
                       "human_odd": tr["odd_pos"].to_numpy().astype(np.int8),
                       "logit_0": logits[:, 0], "logit_1": logits[:, 1], "logit_2": logits[:, 2],
                       "margin": margin(logits), "softmax_conf": softmax(logits, axis=1).max(1)})
    write_parquet(df, out)
    log.info("%s: %d trial predictions, agreement with the human choice %.3f", model_name, len(df),
             float((df["pred_pos"] == df["human_odd"]).mean()))
    return df
