"""Rule confidence → facesimxai.confidence.run.run_confidence."""

from facesimxai.confidence.run import run_confidence
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    run_confidence(list(snakemake.input), snakemake.params.cfg, snakemake.output.table,
                   snakemake.output.summary, snakemake.output.figure)
