"""Targets and settings of the models stage (its rules: workflow/rules/models.smk)."""

# What training a head reads (models.train_head); models.trained and models.last_core_layer
# (the features file is an input) are left out, so adding a model re-trains no other head.
HEAD_TRAINING_KEYS = ("bridge_width", "distance_dropout", "dropout", "maxp_rule", "train")
# What the evaluations of trained heads read besides the heads themselves.
HEAD_EVALUATION_KEYS = ("maxp_rule",)


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
