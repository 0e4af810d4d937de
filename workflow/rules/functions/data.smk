"""Targets and settings of the data stage (its rules: workflow/rules/data.smk)."""


def data_targets():
    targets = [
        f"{R}/faces/manifest.parquet",
        f"{R}/judgments/trials.parquet",
        f"{R}/judgments/triplets.parquet",
        f"{R}/figures/data/faces.png",
        f"{R}/figures/data/judgments.png",
    ]
    if SYNTHETIC_FACES:
        targets += [
            f"{R}/figures/data/parameter_effects.png",
            f"{R}/figures/data/pretrain_examples.png",
        ]
    if SIMULATED:
        targets.append(f"{R}/figures/data/observer_recovery.png")
    return targets
