"""Rule region_stats_figures → facesimxai.regions.figures.plot_region_stage."""

from facesimxai.logs import rule_logging
from facesimxai.regions.figures import plot_region_stage

with rule_logging(snakemake.log[0]):
    plot_region_stage(
        list(snakemake.input.faces), snakemake.input.models, list(snakemake.input.face_stores),
        list(snakemake.params.labels), snakemake.input.manifest, snakemake.input.masks,
        snakemake.params.metric, bars_out=snakemake.output.bars, maps_out=snakemake.output.maps,
        seed=snakemake.params.seed,
    )
