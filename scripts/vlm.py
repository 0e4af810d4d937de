"""Rule vlm → facesimxai.vlm.run.run_vlm."""

from facesimxai.logs import rule_logging
from facesimxai.vlm.run import run_vlm

with rule_logging(snakemake.log[0]):
    stores = dict(zip(snakemake.params.store_models, snakemake.input.get("stores", []), strict=True))
    run_vlm(snakemake.input.trials, snakemake.input.manifest, snakemake.params.cfg, snakemake.output.answers,
            stores=stores, parts_dir=snakemake.params.parts)
