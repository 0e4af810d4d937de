"""Rule explainer_validity_figure → facesimxai.validity.figures.plot_explainer_validity."""

from facesimxai.logs import rule_logging
from facesimxai.validity.figures import plot_explainer_validity

with rule_logging(snakemake.log[0]):
    plot_explainer_validity(snakemake.input.validity, snakemake.input.sanity, snakemake.output[0])
