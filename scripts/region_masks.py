"""Rule region_masks → facesimxai.landmarks.masks.build_region_masks."""

from facesimxai.landmarks.masks import build_region_masks
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    build_region_masks(
        snakemake.input.landmarks, snakemake.input.regions,  # noqa: F821
        priority=snakemake.params.priority, margin=snakemake.params.margin,  # noqa: F821
        out=snakemake.output[0],  # noqa: F821
    )
