"""Rule region_relevance → facesimxai.regions.relevance.compute_region_relevance."""

from facesimxai.logs import rule_logging
from facesimxai.regions.relevance import compute_region_relevance

with rule_logging(snakemake.log[0]):
    compute_region_relevance(
        snakemake.input.store, snakemake.input.faces, snakemake.input.masks, snakemake.wildcards.model,
        snakemake.wildcards.explainer, trials_out=snakemake.output.trials, faces_out=snakemake.output.faces,
    )
