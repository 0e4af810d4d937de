"""Rule tiny_vlm → facesimxai.vlm.tiny.build_tiny_qwen2vl."""

from facesimxai.logs import rule_logging
from facesimxai.vlm.tiny import build_tiny_qwen2vl

with rule_logging(snakemake.log[0]):
    build_tiny_qwen2vl(snakemake.output[0], snakemake.params.seed)
