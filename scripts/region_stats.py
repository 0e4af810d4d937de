"""Rule region_stats → facesimxai.regions.stats.run_region_stats."""

from facesimxai.logs import rule_logging
from facesimxai.regions.stats import run_region_stats

with rule_logging(snakemake.log[0]):
    run_region_stats(list(snakemake.input.faces), list(snakemake.input.trials), snakemake.params.stats,
                     models_out=snakemake.output.models, explainers_out=snakemake.output.explainers)
