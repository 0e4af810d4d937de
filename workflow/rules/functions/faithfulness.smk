"""Targets and settings of the faithfulness stage (its rules: workflow/rules/faithfulness.smk)."""


def faithfulness_settings():
    """faithfulness config as run_faithfulness reads it (the masking block is its own job's)."""
    keys = ("splits", "n_trials", "seed", "baseline", "grid", "steps", "score", "occlusion")
    return {k: config["faithfulness"][k] for k in sorted(keys)}


def masking_settings():
    """Settings of the cross-model masking job: the sample's and the masking block's."""
    sample = {k: config["faithfulness"][k] for k in ("splits", "n_trials", "seed", "baseline")}
    masking = config["faithfulness"]["masking"]
    return {**sample, "fractions": masking["fractions"]}


def masking_inputs(wildcards):
    """The backbone, both heads and the extra VGG-Hum seeds (faithfulness.masking.head_seeds)."""
    seeds = config["faithfulness"]["masking"]["head_seeds"]
    return {
        "backbone": f"{R}/models/backbone.pt",
        "manifest": f"{R}/faces/manifest.parquet",
        "images": f"{R}/faces/images",
        "trials": f"{R}/judgments/trials.parquet",
        "masks": region_masks_if_needed(config["explain"]["explainers"][explanation_explainer()]),
        "heads": [f"{R}/models/{m}/head.pt" for m in THESIS_MODELS]
        + [f"{R}/models/hum_seed{s}/head.pt" for s in seeds],
    }


def faithfulness_targets():
    """Outputs of the faithfulness stage (workflow/rules/faithfulness.smk)."""
    cfg = config["faithfulness"]
    targets = [f"{R}/faithfulness/summary.json", f"{R}/figures/faithfulness/faithfulness.png"] if cfg["enabled"] else []
    if cfg["masking"]["enabled"]:
        targets += [f"{R}/faithfulness/masking.parquet", f"{R}/figures/faithfulness/masking.png"]
    return targets


FAITH = f"{R}/faithfulness"
