"""Rule masking_figure → facesimxai.faithfulness.figures.masking_figure."""

from facesimxai.faithfulness.figures import masking_figure
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    masking_figure(snakemake.input[0], snakemake.params.fraction, snakemake.output[0])
