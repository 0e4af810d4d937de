"""Rule explainer_validity → facesimxai.validity.run.run_explainer_validity."""

from pathlib import Path

from facesimxai.logs import rule_logging
from facesimxai.validity.run import run_explainer_validity

with rule_logging(snakemake.log[0]):
    regions = {**snakemake.params.regions, "file": snakemake.input.regions}
    run_explainer_validity(
        backbone=snakemake.input.backbone, heads={Path(p).parent.name: p for p in snakemake.input.heads},
        unseen=snakemake.input.unseen, unseen_landmarks=snakemake.input.unseen_landmarks,
        interventional=snakemake.input.interventional,
        cfg=snakemake.params.validity, inter_cfg=snakemake.params.interventional,
        observers_cfg=snakemake.params.observers, regions_cfg=regions,
        device=snakemake.params.device, workers=snakemake.threads, out_validity=snakemake.output.validity,
        out_sanity=snakemake.output.sanity, out_regions=snakemake.output.regions, out_json=snakemake.output.summary,
    )
