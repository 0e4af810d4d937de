"""Targets and settings of the explanations stage (its rules: workflow/rules/explanations.smk)."""


def explanation_targets():
    """Outputs of the confidence and explanation stage (workflow/rules/explanations.smk)."""
    return [
        f"{R}/confidence/summary.json",
        f"{R}/figures/confidence/reliability.png",
        f"{R}/explanations/trials.parquet",
    ]
