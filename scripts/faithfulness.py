"""Rule faithfulness → facesimxai.faithfulness.run.run_faithfulness (model = hum | maxp)."""

from facesimxai.faithfulness.run import run_faithfulness
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    run_faithfulness(
        snakemake.input.backbone, snakemake.input.head, snakemake.input.manifest, snakemake.input.trials,
        snakemake.input.masks, model_name=snakemake.wildcards.model, cfg=snakemake.params.cfg,
        explainers=snakemake.params.explainers, device=snakemake.params.device, threads=snakemake.threads,
        scores_out=snakemake.output.scores,
        curves_out=snakemake.output.curves, regions_out=snakemake.output.regions,
        synthetic=snakemake.params.synthetic,
    )
