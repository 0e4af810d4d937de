"""Targets and settings of the regions stage (its rules: workflow/rules/regions.smk)."""


def region_targets():
    """Outputs of the region stage (workflow/rules/regions.smk)."""
    targets = [
        *region_tables("trials"),
        *region_tables("faces"),
        f"{R}/regions/stats_models.parquet",
        f"{R}/figures/regions/region_scores.png",
        f"{R}/figures/regions/mean_maps.png",
    ]
    if SYNTHETIC_FACES and SIMULATED:
        targets += [f"{R}/regions/ground_truth.json", f"{R}/figures/regions/ground_truth.png"]
    if SIMULATED:
        targets += [f"{R}/regions/explainer_validity.csv", f"{R}/figures/regions/explainer_validity.png"]
    return targets
