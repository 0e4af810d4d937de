"""Targets and settings of the landmarks stage (its rules: workflow/rules/landmarks.smk)."""


def landmark_targets():
    """Outputs of the landmarks and region-mask stage (workflow/rules/landmarks.smk)."""
    return [
        f"{R}/landmarks/landmarks.zarr",
        f"{R}/regions/masks.zarr",
        f"{R}/figures/regions/landmarks.png",
        f"{R}/figures/regions/regions.png",
    ]
