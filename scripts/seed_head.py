"""Rule seed_head → facesimxai.models.train.train_head: VGG-Hum again with another training seed."""

from facesimxai.logs import rule_logging
from facesimxai.models.train import train_head

with rule_logging(snakemake.log[0]):
    models = {**snakemake.params.models,
              "train": {**snakemake.params.models["train"], "seed": int(snakemake.wildcards.seed)}}
    train_head(
        snakemake.input.features, snakemake.input.trials, None, "hum", models, snakemake.params.device,
        snakemake.threads, out=snakemake.output.head, metrics_out=snakemake.output.metrics,
    )
