"""Rule region_figures → facesimxai.landmarks.figures.plot_region_figures."""

from facesimxai.landmarks.figures import plot_region_figures
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    out = snakemake.output  # noqa: F821
    plot_region_figures(
        snakemake.input.manifest, snakemake.input.landmarks, snakemake.input.masks,  # noqa: F821
        landmarks_png=out.landmarks, regions_png=out.regions,
    )
