"""Rule train_head → facesimxai.models.train.train_head (model = hum | maxp | hum_distance)."""

from facesimxai.logs import rule_logging
from facesimxai.models.train import train_head

with rule_logging(snakemake.log[0]):
    train_head(
        snakemake.input.features, snakemake.input.trials, snakemake.input.maxp_targets,
        snakemake.wildcards.model, snakemake.params.models, snakemake.params.device,
        snakemake.threads, out=snakemake.output.head, metrics_out=snakemake.output.metrics,
    )
