"""Rule ground_truth → facesimxai.regions.ground_truth.ground_truth_recovery."""

from facesimxai.logs import rule_logging
from facesimxai.regions.ground_truth import ground_truth_recovery

with rule_logging(snakemake.log[0]):
    ground_truth_recovery(
        list(snakemake.input.tables), snakemake.input.observers, snakemake.input.manifest,
        snakemake.input.trials, snakemake.input.maxp_targets, snakemake.params.maxp_rule,
        snakemake.params.cfg, out=snakemake.output.json, figure_out=snakemake.output.figure,
        gates={k: snakemake.input[k] for k in ("probe", "generalisation", "interventional", "validity")},
        explainers=snakemake.params.explainers,
    )
