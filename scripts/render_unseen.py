"""Rule render_unseen → facesimxai.data.unseen.render_unseen_set."""

from facesimxai.data.unseen import render_unseen_set
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    render_unseen_set(snakemake.params.unseen, snakemake.params.image_size, snakemake.output[0],
                      workers=snakemake.threads)
