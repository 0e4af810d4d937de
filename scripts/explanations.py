"""Rule explanations → facesimxai.explanations.table.build_explanations."""

from facesimxai.explanations.table import build_explanations
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    build_explanations(snakemake.input.confidence,
                       dict(zip(snakemake.params.models, snakemake.input.regions, strict=True)),
                       snakemake.params.explainer, snakemake.params.top_k, out=snakemake.output.table)
