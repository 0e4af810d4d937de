"""Rule cross_masking → facesimxai.faithfulness.run.run_masking."""

from pathlib import Path

from facesimxai.faithfulness.run import run_masking
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    heads = {Path(p).parent.name: p for p in snakemake.input.heads}  # hum, maxp, hum_seed1, …
    run_masking(snakemake.input.backbone, heads, snakemake.input.manifest, snakemake.input.trials,
                snakemake.params.cfg, snakemake.params.explainer, snakemake.params.device, snakemake.threads,
                out=snakemake.output.table, masks=next(iter(snakemake.input.get("masks", [])), None),
                synthetic=snakemake.params.synthetic)
