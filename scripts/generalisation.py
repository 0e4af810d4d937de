"""Rule generalisation → facesimxai.models.generalisation.run_generalisation."""

import json
from pathlib import Path

from facesimxai.logs import rule_logging
from facesimxai.models.generalisation import run_generalisation

with rule_logging(snakemake.log[0]):
    held_out = json.loads(Path(snakemake.input.splits).read_text()).get("faces", {}).get("test")
    heads = {Path(p).parent.name: p for p in snakemake.input.heads}
    run_generalisation(
        backbone=snakemake.input.backbone, heads=heads, features=snakemake.input.features,
        trials=snakemake.input.trials, maxp_targets=snakemake.input.maxp_targets,
        unseen=snakemake.input.unseen if snakemake.params.observers else None,
        observers_cfg=snakemake.params.observers, cfg=snakemake.params.generalisation,
        models_cfg=snakemake.params.models, device=snakemake.params.device, held_out_faces=held_out,
        out=snakemake.output[0],
    )
