"""Rule vlm_figures → facesimxai.vlm.figures.vlm_figure."""

from facesimxai.logs import rule_logging
from facesimxai.vlm.figures import vlm_figure

with rule_logging(snakemake.log[0]):
    vlm_figure(snakemake.input[0], snakemake.output[0])
