"""Pass/fail gates of the explainer-validity check and the plain sentences that report failures.

No torch here: the ground-truth stage and the figures run in the analysis environment.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

#: An explainer passes when its region values follow the renderer truth at least this well
#: (within-trial ρ), beat both floors, and its region values change when the head is randomised.
TRUTH_GATE = 0.5
RANDOMISED_HEAD_GATE = 0.5

_BY_METHOD = {"epsilon_plus_flat": "lrp_epsilon_plus", "epsilon_gamma_box": "lrp_gamma_box",
              "gradient": "gradient", "gradient_x_input": "gradient_x_input",
              "region_shapley": "region_shapley", "integrated_gradients": "integrated_gradients"}


def validity_name(settings: dict) -> str | None:
    """The validity check's explainer for a configured ``explain.explainers`` entry (None: not checked,
    e.g. occlusion). The α2β1 preset on the target logit is the thesis's map; other outputs of a
    method are checked by its contrastive, all-positions form."""
    method = settings["method"]
    if method == "epsilon_alpha2_beta1_flat":
        return "lrp_alpha2_beta1" if settings.get("output") == "contrastive" else "lrp_thesis"
    return _BY_METHOD.get(method)


def explainer_verdicts(validity: Path | str, explainers: list[str]) -> list[str]:
    """One plain sentence per model for the ``explainers`` in use that failed the validity check,
    each with the gate it missed."""
    v = pd.read_csv(validity)
    lines = []
    for model, d in v[v["kind"] == "explainer"].groupby("model", sort=False):
        failed = d[~d["passed"].astype(bool) & d["explainer"].isin(explainers)]
        if len(failed):
            reasons = [f"{r.explainer} ({_reason(r)})" for r in failed.itertuples()]
            lines.append(f"For {model}, {', '.join(reasons)} failed the explainer-validity check "
                         "(regions/explainer_validity.csv): their region results are not evidence of what it uses.")
    return lines


def _reason(row) -> str:
    truth = row.rho_vs_truth_within
    if pd.isna(truth):
        return "its maps are constant"
    if truth < TRUTH_GATE:
        return f"renderer-truth ρ {truth:.2f} < {TRUTH_GATE}"
    randomised = getattr(row, "randomised_head_rho", float("nan"))
    if randomised > RANDOMISED_HEAD_GATE:
        return f"maps barely change with a random head, ρ {randomised:.2f} > {RANDOMISED_HEAD_GATE}"
    return "not above the floors"


def gate_warnings(probe: Path | str, generalisation: Path | str, interventional: Path | str,
                  validity: Path | str, explainers: dict[str, dict]) -> list[str]:
    """Every failed model gate and every failed explainer in use (``explain.explainers``), one sentence each."""
    from facesimxai.models.figures import validity_verdicts

    read = lambda p: json.loads(Path(p).read_text())  # noqa: E731
    lines = validity_verdicts(read(probe), read(generalisation), read(interventional))
    in_use = [n for n in (validity_name(e) for e in explainers.values()) if n]
    return lines + explainer_verdicts(validity, in_use)
