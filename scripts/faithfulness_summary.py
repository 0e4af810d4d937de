"""Rule faithfulness_summary → facesimxai.faithfulness.summary.summarise_faithfulness."""

from facesimxai.faithfulness.summary import summarise_faithfulness
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    summarise_faithfulness(
        list(snakemake.input.scores), list(snakemake.input.regions), snakemake.params.n_boot, snakemake.params.seed,
        table_out=snakemake.output.table, agreement_out=snakemake.output.agreement,
        summary_out=snakemake.output.summary,
    )
