"""Targets and settings of the models stage (its rules: workflow/rules/models.smk)."""


def model_targets():
    """Outputs of the backbone and triplet-model stage (workflow/rules/models.smk)."""
    return [
        f"{R}/models/backbone.pt",
        *expand(f"{R}/models/{{model}}/head.pt", model=config["models"]["trained"]),
        f"{R}/figures/models/training.png",
        f"{R}/models/probe.json",
        f"{R}/models/generalisation.json",
        f"{R}/figures/models/validity.png",
        *([f"{R}/regions/interventional.json"] if SIMULATED else []),
    ]
