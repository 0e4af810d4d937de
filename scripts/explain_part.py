"""Rule explain_part → facesimxai.explain.part.explain_part (one scatter range)."""

from facesimxai.explain.part import explain_part
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    explain_part(
        snakemake.input.backbone, snakemake.input.head, snakemake.input.manifest,
        snakemake.input.trials, snakemake.input.maxp_targets, explainer=snakemake.params.explainer,
        explain_cfg=snakemake.params.explain, maxp_rule=snakemake.params.maxp_rule,
        scatteritem=snakemake.wildcards.scatteritem, device=snakemake.params.device,
        threads=snakemake.threads, out=snakemake.output.part,
        marker=snakemake.output.marker, masks=next(iter(snakemake.input.get("masks", [])), None),
        synthetic=snakemake.params.synthetic,
    )
