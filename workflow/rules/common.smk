"""Shared helpers: input and target lists that depend on the configuration."""


def judgment_files():
    """The trial CSVs the importer reads: simulated, or the configured FaceSim3D files."""
    if SIMULATED:
        return [f"{R}/judgments/simulated/trials.csv"]
    from facesimxai.data.judgments import expand_files

    try:
        return [str(p) for p in expand_files(config["judgments"]["files"])]
    except ValueError as exc:
        raise WorkflowError(str(exc)) from None


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
            f"{R}/pretrain/renders.zarr",
            f"{R}/figures/data/parameter_effects.png",
            f"{R}/figures/data/pretrain_examples.png",
        ]
    if SIMULATED:
        targets.append(f"{R}/figures/data/observer_recovery.png")
    return targets
