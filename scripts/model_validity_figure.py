"""Rule model_validity_figure → facesimxai.models.figures.plot_model_validity."""

from facesimxai.logs import rule_logging
from facesimxai.models.figures import plot_model_validity

with rule_logging(snakemake.log[0]):
    plot_model_validity(snakemake.input.probe, snakemake.input.generalisation,
                        snakemake.input.interventional or None, out=snakemake.output[0])
