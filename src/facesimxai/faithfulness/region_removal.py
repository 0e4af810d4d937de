"""Region importances by removing and restoring the 12 landmark regions (seed 004's techniques).

For the target face of a trial, a region is "removed" by replacing its pixels with the baseline
image. With s(·) the decision score for a set of removed regions:

- single removal:      s(∅) − s({r})
- greedy removal:      remove, one at a time, the region whose removal lowers s most; a
                       region's importance is the drop at its turn
- single aggregation:  s(all but r) − s(all): the score gained by keeping r alone
- greedy aggregation:  restore, one at a time, the region that raises s most; importance = gain
- average:             the mean of the four, each first divided by its sum of |importance|

These are region scores in the same region order as the LRP region tables, so the two can be
ranked against each other trial by trial. A face's perturbed versions are embedded once per
region set and cached, so triplets that share a target face share the cost.
"""

from __future__ import annotations

import numpy as np
import torch

from facesimxai.explain.triplet_function import TripletFunction
from facesimxai.faithfulness.perturbation import decision_score


class RegionScorer:
    """s(removed regions) for triplets whose target face is ``face``; embeddings cached per set."""

    def __init__(self, fn: TripletFunction, face: torch.Tensor, baseline: torch.Tensor, masks: torch.Tensor):
        self.fn, self.face, self.baseline, self.masks = fn, face, baseline, masks.bool()
        self.cache: dict[frozenset, torch.Tensor] = {}

    def _embed(self, sets: list[frozenset]) -> None:
        todo = [s for s in dict.fromkeys(sets) if s not in self.cache]
        if not todo:
            return
        variants = []
        for removed in todo:
            m = self.masks[list(removed)].any(0) if removed else torch.zeros_like(self.masks[0])
            variants.append(torch.where(m, self.baseline, self.face))
        for s, e in zip(todo, self.fn.embed(torch.stack(variants)), strict=True):
            self.cache[s] = e

    def scores(self, trip_emb: torch.Tensor, target: torch.Tensor, sets: list[frozenset], kind: str) -> np.ndarray:
        self._embed(sets)
        combo = trip_emb.unsqueeze(0).repeat(len(sets), 1, 1)
        combo[:, int(target)] = torch.stack([self.cache[s] for s in sets]).to(combo)
        return decision_score(self.fn.logits(combo).cpu(), target.repeat(len(sets)), kind).numpy()


def technique_importances(s, n: int) -> dict:
    """Importance (n,) of every region under each technique, given ``s(list of removed-region
    sets) -> scores``: any score of a set of removed regions (a triplet decision, a pair's
    similarity), so triplets and verification pairs share one implementation."""
    everything = frozenset(range(n))
    base, none_removed = s([everything, frozenset()])
    out = {"single_removal": none_removed - s([frozenset({r}) for r in range(n)]),
           "single_aggregation": s([everything - {r} for r in range(n)]) - base}
    for name, start, step in (("greedy_removal", frozenset(), lambda cur, r: cur | {r}),
                              ("greedy_aggregation", everything, lambda cur, r: cur - {r})):
        imp, cur, left = np.zeros(n), start, set(range(n))
        current = none_removed if name == "greedy_removal" else base
        while left:
            cand = sorted(left)
            vals = s([step(cur, r) for r in cand])
            change = current - vals if name == "greedy_removal" else vals - current
            k = int(np.argmax(change))
            imp[cand[k]] = change[k]
            cur, current = step(cur, cand[k]), vals[k]
            left.remove(cand[k])
        out[name] = imp
    out["average"] = np.mean([v / max(np.abs(v).sum(), 1e-12) for v in out.values()], axis=0)
    return out


def region_importances(scorer: RegionScorer, trip_emb: torch.Tensor, target: torch.Tensor, kind: str) -> dict:
    """Importance (n_regions,) of every region under each technique, for one trial."""
    return technique_importances(lambda sets: scorer.scores(trip_emb, target, sets, kind), len(scorer.masks))
