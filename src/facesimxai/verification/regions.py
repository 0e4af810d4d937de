"""Which facial regions make a pair look alike (seed 004's explainability table and its words).

The 12 landmark regions of each image of a pair (MediaPipe mesh → hulls → one region per pixel,
as for the triplet faces) are removed together in both images — a region's pixels become the
baseline (``faithfulness.baseline``: a strong blur of the same face, or black) — and the pair's
cosine similarity is re-measured. The five techniques of ``faithfulness.region_removal`` (single
and greedy removal, single and greedy aggregation, their normalised average) turn those
similarities into one contribution per region: positive = the region makes the two faces more
alike. A template turns the table into a sentence; every number in it is in the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from facesimxai.faithfulness import TECHNIQUES
from facesimxai.faithfulness.region_removal import technique_importances
from facesimxai.landmarks.masks import region_hulls, resolve_overlaps
from facesimxai.landmarks.region_definitions import check_priority, load_regions


def image_region_masks(landmarks: np.ndarray, input_size: int, regions_file, priority, margin: float) -> np.ndarray:
    """(n, R, S, S) bool region masks of each image's mesh (n, 478, 3); all False without a mesh."""
    regions = load_regions(regions_file)
    order = check_priority(priority)
    masks = np.zeros((len(landmarks), len(regions.names), input_size, input_size), bool)
    for f in np.flatnonzero(np.isfinite(landmarks).all(axis=(1, 2))):
        masks[f] = resolve_overlaps(region_hulls(landmarks[f], regions, input_size, margin), regions.names, order)
    return masks


class PairScorer:
    """Cosine similarity of a pair with sets of regions removed from both images; one embedding
    per (image, region set), cached, so techniques that revisit a set cost nothing more."""

    def __init__(self, embed, faces: tuple[torch.Tensor, torch.Tensor], baselines: tuple[torch.Tensor, torch.Tensor],
                 masks: tuple[np.ndarray, np.ndarray]):
        self.embed, self.faces, self.baselines = embed, faces, baselines
        self.masks = tuple(torch.from_numpy(m) for m in masks)
        self.cache: list[dict[frozenset, torch.Tensor]] = [{}, {}]

    def _embeddings(self, side: int, sets: list[frozenset]) -> torch.Tensor:
        todo = [s for s in dict.fromkeys(sets) if s not in self.cache[side]]
        if todo:
            m = self.masks[side]
            variants = torch.stack([
                torch.where(m[list(s)].any(0) if s else torch.zeros_like(m[0]), self.baselines[side], self.faces[side])
                for s in todo])
            with torch.no_grad():
                for s, e in zip(todo, self.embed(variants).double().cpu(), strict=True):
                    self.cache[side][s] = e
        return torch.stack([self.cache[side][s] for s in sets])

    def __call__(self, sets: list[frozenset]) -> np.ndarray:
        a, b = self._embeddings(0, sets), self._embeddings(1, sets)
        return torch.nn.functional.cosine_similarity(a, b, dim=1).numpy()


def pair_region_table(scorer: PairScorer, region_names: list[str]) -> pd.DataFrame:
    """One row per technique × region: ``importance`` (similarity gained by the region)."""
    imp = technique_importances(scorer, len(region_names))
    return pd.DataFrame([{"technique": t, "region": r, "importance": float(imp[t][k])}
                         for t in TECHNIQUES for k, r in enumerate(region_names)])


def pair_sentence(row: pd.Series, table: pd.DataFrame, top_k: int = 2) -> str:
    """The decision and the regions for and against it, from the pair's row and region table
    (the ``average`` technique: each region's signed share of the techniques' total), in one
    deterministic template."""
    same = bool(row["accepted"])
    verdict = "the same person" if same else "two different people"
    truth = "correct" if bool(row["correct"]) else "wrong"
    avg = table[table["technique"] == "average"].sort_values(["importance", "region"], ascending=[False, True])
    alike = [f"{r.region.replace('_', ' ')} ({r.importance:+.0%})" for r in avg.head(top_k).itertuples()
             if r.importance > 0]
    apart = [f"{r.region.replace('_', ' ')} ({r.importance:+.0%})"
             for r in avg.iloc[::-1].head(top_k).itertuples() if r.importance < 0]
    text = (f"Pair {int(row['pair_id'])}: similarity {row['similarity']:.2f} is "
            f"{'at or above' if same else 'below'} the threshold {row['threshold']:.2f}, so the model says "
            f"{verdict} ({truth}; C-Score {row['c_score']:.2f}).")
    text += f" Regions that make the faces alike: {', '.join(alike)}." if alike else " No region makes them more alike."
    text += f" Regions that set them apart: {', '.join(apart)}." if apart else " No region sets them apart."
    return text
