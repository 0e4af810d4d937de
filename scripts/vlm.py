"""Rule vlm → facesimxai.vlm.run.run_vlm."""

from facesimxai.logs import rule_logging
from facesimxai.vlm.run import run_vlm

cfg = snakemake.params.cfg
stores = dict(zip(snakemake.config["explain"]["models"], snakemake.input.get("stores", []), strict=False))
with rule_logging(snakemake.log[0]):
    run_vlm(snakemake.input.trials, snakemake.input.manifest, cfg, snakemake.output.answers, stores=stores,
            parts_dir=f"{snakemake.config['results']}/vlm/parts")
