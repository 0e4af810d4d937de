"""Rule vlm_evaluation → facesimxai.vlm.evaluate.evaluate_vlm."""

from facesimxai.logs import rule_logging
from facesimxai.vlm.evaluate import evaluate_vlm
from facesimxai.vocabulary import THESIS_MODELS

with rule_logging(snakemake.log[0]):
    evaluate_vlm(snakemake.input.answers, dict(zip(THESIS_MODELS, snakemake.input.predictions, strict=True)),
                 dict(zip(snakemake.params.models, snakemake.input.regions, strict=True)),
                 snakemake.output.summary, snakemake.output.table, snakemake.params.top_k,
                 snakemake.params.n_permutations, snakemake.params.seed)
