"""Rule model_figures → facesimxai.models.figures.plot_training."""

from facesimxai.logs import rule_logging
from facesimxai.models.figures import plot_training

with rule_logging(snakemake.log[0]):
    plot_training(snakemake.input.backbone, snakemake.input.heads, out=snakemake.output[0])
