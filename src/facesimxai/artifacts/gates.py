"""Pass/fail gates of the model and explainer checks, read from their JSON and CSV outputs, and
the plain sentences that report failures (the ground-truth stage and the figures state them).

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


def _vs_gate(value: float, gate: float) -> str:
    """``value`` with two decimals, or three where two would round it onto the gate it missed
    (0.497 < 0.5 printed as "0.50 < 0.5" reads as a contradiction)."""
    text = f"{value:.2f}"
    return f"{value:.3f}" if float(text) == gate else text


def _reason(row) -> str:
    truth = row.rho_vs_truth_within
    if pd.isna(truth):
        return "its maps are constant"
    if truth < TRUTH_GATE:
        return f"renderer-truth ρ {_vs_gate(truth, TRUTH_GATE)} < {TRUTH_GATE}"
    randomised = getattr(row, "randomised_head_rho", float("nan"))
    if randomised > RANDOMISED_HEAD_GATE:
        shown = _vs_gate(randomised, RANDOMISED_HEAD_GATE)
        text = f"maps barely change with a random head, ρ {shown} > {RANDOMISED_HEAD_GATE}"
        agreement = getattr(row, "randomised_head_decision_agreement", float("nan"))
        if pd.notna(agreement):
            text += f", which makes the trained model's choice on {agreement:.0%} of trials"
        return text
    return "not above the floors"


#: Gates of the model-validity stage (issue "models that learn"): probe R² at the core layer for
#: these groups, VGG-Hum-type agreement with the mean observer on unseen faces, and the within-trial
#: ρ of the interventional group Shapley values with the observers' evidence.
PROBE_GATE, PROBE_GATE_GROUPS = 0.5, ("eyes", "brows", "mouth", "head", "hair")
AGREEMENT_GATE, SHAPLEY_GATE = 0.55, 0.5


def validity_verdicts(probe: dict, generalisation: dict, interventional: dict | None) -> list[str]:
    """One plain sentence per failed gate (empty when every gate holds)."""
    core = probe[probe["core_layer"]]
    failed = [g for g in PROBE_GATE_GROUPS if core[g] < PROBE_GATE]
    lines = []
    if failed:
        shown = ", ".join(_vs_gate(core[g], PROBE_GATE) for g in failed)
        lines.append(f"The backbone does not encode {', '.join(failed)} on unseen faces (probe R² "
                     f"{shown} < {PROBE_GATE}): no head can weigh them.")
    for name, entry in generalisation.items():
        agree = entry.get("unseen_agreement_mean_observer")
        if agree is not None and agree < AGREEMENT_GATE:
            shown = _vs_gate(agree, AGREEMENT_GATE)
            lines.append(f"{name} agrees with the mean observer on {shown} of unseen-face triplets "
                         f"(chance {entry['chance']:.2f}, noise ceiling {entry['noise_ceiling']:.2f}, gate "
                         f"{AGREEMENT_GATE}): it has not learned the observers' strategy.")
    for name, entry in (interventional or {}).items():
        rho = entry.get("group_shapley_vs_observers_within_trial_rho") if isinstance(entry, dict) else None
        if rho is not None and rho < SHAPLEY_GATE:
            lines.append(f"{name}'s decisions weigh the face-parameter groups unlike the observers "
                         f"(interventional within-trial ρ {_vs_gate(rho, SHAPLEY_GATE)} < "
                         f"{SHAPLEY_GATE}).")
    return lines


def gate_warnings(probe: Path | str, generalisation: Path | str, interventional: Path | str,
                  validity: Path | str, explainers: dict[str, dict]) -> list[str]:
    """Every failed model gate and every failed explainer in use (``explain.explainers``), one sentence each."""

    read = lambda p: json.loads(Path(p).read_text())  # noqa: E731
    lines = validity_verdicts(read(probe), read(generalisation), read(interventional))
    in_use = [n for n in (validity_name(e) for e in explainers.values()) if n]
    return lines + explainer_verdicts(validity, in_use)
