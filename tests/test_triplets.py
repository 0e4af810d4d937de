"""Canonical triplet ids and splits."""

from math import comb

import numpy as np
import pandas as pd
import pytest

from facesimxai.data.triplets import (
    add_triplet_columns,
    face_disjoint_split,
    iter_triplets,
    random_split,
    rank_triplets,
    triplet_table,
    unrank_triplets,
)


def test_rank_is_dense_order_free_and_invertible():
    n = 12
    all_t = np.array([(a, b, c) for c in range(1, n + 1) for b in range(1, c) for a in range(1, b)])
    ranks = rank_triplets(all_t[:, 0], all_t[:, 1], all_t[:, 2])
    assert sorted(ranks.tolist()) == list(range(comb(n, 3)))
    assert np.array_equal(rank_triplets(all_t[:, 2], all_t[:, 0], all_t[:, 1]), ranks)
    assert np.array_equal(unrank_triplets(ranks, n), all_t)
    assert np.array_equal(unrank_triplets(ranks), all_t)  # n is not needed to invert


def test_full_study_enumeration_in_chunks():
    chunks = list(iter_triplets(100, chunk=50_000))
    assert sum(len(c) for c in chunks) == 161_700
    assert chunks[0][0].tolist() == [1, 2, 3] and chunks[-1][-1].tolist() == [98, 99, 100]
    assert rank_triplets(98, 99, 100) == 161_699


def test_rank_rejects_repeated_faces():
    with pytest.raises(ValueError, match="distinct"):
        rank_triplets([1], [1], [2])
    with pytest.raises(ValueError, match="outside"):
        unrank_triplets([comb(5, 3)], 5)


def _trials(n=300, n_faces=10, seed=0):
    rng = np.random.default_rng(seed)
    heads = np.array([rng.choice(np.arange(1, n_faces + 1), 3, replace=False) for _ in range(n)])
    odd = heads[np.arange(n), rng.integers(0, 3, n)]
    return pd.DataFrame({"head1": heads[:, 0], "head2": heads[:, 1], "head3": heads[:, 2],
                         "head_odd": odd})


def test_triplet_columns_and_table():
    trials = add_triplet_columns(_trials())
    heads = trials[["head1", "head2", "head3"]].to_numpy()
    assert np.array_equal(heads[np.arange(len(trials)), trials["odd_pos"]], trials["head_odd"])
    table = triplet_table(trials)
    assert table["n_trials"].sum() == len(trials)
    assert (table[["n_odd_a", "n_odd_b", "n_odd_c"]].sum(axis=1) == table["n_trials"]).all()
    assert (table["face_a"] < table["face_b"]).all() and (table["face_b"] < table["face_c"]).all()


def test_random_split_is_seeded_and_proportional():
    fr = {"train": 0.7, "val": 0.15, "test": 0.15}
    a, b, c = random_split(1000, fr, 1), random_split(1000, fr, 1), random_split(1000, fr, 2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    counts = {k: int((a == k).sum()) for k in ("train", "val", "test")}
    assert counts == {"train": 700, "val": 150, "test": 150}


def test_face_disjoint_split_never_trains_on_held_out_faces():
    trials = _trials(2000, 20)
    heads = trials[["head1", "head2", "head3"]].to_numpy()
    labels, sets = face_disjoint_split(heads, np.arange(1, 21), {"train": .7, "val": .15, "test": .15}, 0)
    assert not set(heads[labels == "train"].ravel()) & (set(sets["val"]) | set(sets["test"]))
    assert not set(heads[labels == "val"].ravel()) & set(sets["test"])
    assert not set(heads[labels == "test"].ravel()) & set(sets["val"])
    assert {"train", "val", "test"} <= set(labels)
