"""Rule faithfulness_figures → facesimxai.faithfulness.figures.faithfulness_figure."""

from facesimxai.faithfulness.figures import faithfulness_figure
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    faithfulness_figure(list(snakemake.input.curves), snakemake.input.table, snakemake.input.agreement,
                        snakemake.output[0])
