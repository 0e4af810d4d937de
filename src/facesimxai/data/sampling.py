"""Seeded samples of held-out trials, for the stages that compare models on trials they were
not trained on (the VLM stage, faithfulness, cross-model masking)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from facesimxai.errors import InputError

HELD_OUT = ("val", "test")


def sample_held_out(trials: pd.DataFrame, splits: list[str], n: int, seed: int, config_key: str) -> pd.DataFrame:
    """Up to ``n`` trials of the held-out ``splits``, in trial order (the thesis's VLM sample
    included training trials); ``config_key`` names the setting in error messages."""
    bad = sorted(set(splits) - set(HELD_OUT))
    if bad:
        raise InputError(f"config key {config_key}: {bad} are not held-out splits; models are compared on "
                         f"trials they were not trained on ({', '.join(HELD_OUT)})")
    pool = trials[trials["split"].astype(str).isin(splits)]
    if pool.empty:
        raise InputError(f"config key {config_key}: no trials in split(s) {splits}")
    take = np.random.default_rng(seed).choice(len(pool), size=min(n, len(pool)), replace=False)
    return pool.iloc[np.sort(take)].sort_values("trial_id", kind="stable").reset_index(drop=True)
