"""Targets and settings of the verification stage (its rules: workflow/rules/verification.smk)."""

# What drawing the pairs reads (the rest of `verification` is read by later rules).
VERIFICATION_PAIR_KEYS = ("lfw", "n_folds", "n_pairs", "seed", "source", "synthetic")
VERIFY = f"{R}/verification"


def verification_layer():
    """The embedding layer: verification.layer, or the triplet models' core layer."""
    return config["verification"]["layer"] or config["models"]["last_core_layer"]


def verification_targets():
    """Outputs of the verification stage, when it is enabled."""
    if not config["verification"]["enabled"]:
        return []
    return [
        f"{VERIFY}/metrics.json",
        f"{VERIFY}/xmaps.zarr",
        f"{VERIFY}/xmaps_faithfulness.json",
        f"{VERIFY}/truth.json",
        f"{VERIFY}/sentences.parquet",
        *(f"{R}/figures/verification/{name}.png" for name in ("error_curves", "c_score_reliability", "xmaps", "truth")),
    ]


def verification_explorer_inputs():
    """The verification files the explorer's pair pages read (keys: pair_<what>)."""
    return {
        "pair_scores": rules.verification_scores.output.scores,
        "pair_faces": rules.verification_pairs.output.faces,
        "pair_xmaps": rules.verification_xmaps.output.xmaps,
        "pair_regions": rules.verification_regions.output.table,
        "pair_sentences": rules.verification_regions.output.sentences,
    }
