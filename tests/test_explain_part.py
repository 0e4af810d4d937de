"""Which trials the heatmap store explains: the chosen splits, optionally a seeded subset."""

import pandas as pd

from facesimxai.explain.part import part_range, trials_to_explain


def test_max_trials_draws_a_seeded_subset_that_the_parts_split_disjointly(tmp_path):
    trials = pd.DataFrame({"trial_id": range(100, 0, -1), "split": ["test", "train"] * 50})
    trials.to_parquet(tmp_path / "trials.parquet")
    everything = trials_to_explain(tmp_path / "trials.parquet", ["test"])
    assert everything["trial_id"].is_monotonic_increasing and len(everything) == 50
    subset = trials_to_explain(tmp_path / "trials.parquet", ["test"], max_trials=20, seed=3)
    again = trials_to_explain(tmp_path / "trials.parquet", ["test"], max_trials=20, seed=3)
    other = trials_to_explain(tmp_path / "trials.parquet", ["test"], max_trials=20, seed=4)
    assert len(subset) == 20 and subset["trial_id"].is_monotonic_increasing
    assert subset.equals(again) and not subset.equals(other)
    assert set(subset["trial_id"]) <= set(everything["trial_id"])
    parts = [subset.iloc[slice(*part_range(len(subset), p, 3))] for p in (1, 2, 3)]
    assert sorted(pd.concat(parts)["trial_id"]) == sorted(subset["trial_id"])
    assert trials_to_explain(tmp_path / "trials.parquet", ["test"], max_trials=80).equals(everything)
