"""Rule interventional → facesimxai.regions.interventional.run_interventional."""

from pathlib import Path

from facesimxai.logs import rule_logging
from facesimxai.regions.interventional import run_interventional

with rule_logging(snakemake.log[0]):
    run_interventional(
        backbone=snakemake.input.backbone, heads={Path(p).parent.name: p for p in snakemake.input.heads},
        unseen=snakemake.input.unseen, observers_cfg=snakemake.params.observers,
        cfg=snakemake.params.interventional, models_cfg=snakemake.params.models,
        image_size=snakemake.params.image_size, device=snakemake.params.device, workers=snakemake.threads,
        out_json=snakemake.output.summary, out_table=snakemake.output.table,
    )
