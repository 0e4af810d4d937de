"""Rule probe → facesimxai.models.probe.run_probe."""

from facesimxai.logs import rule_logging
from facesimxai.models.probe import run_probe

with rule_logging(snakemake.log[0]):
    run_probe(snakemake.input.backbone, snakemake.input.unseen, snakemake.params.last_core_layer,
              snakemake.params.probe, snakemake.params.device, snakemake.output[0])
