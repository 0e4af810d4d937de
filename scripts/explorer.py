"""Rule explorer → facesimxai.explorer.site.build_explorer."""

from facesimxai.explorer.site import build_explorer
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):
    pairs = [tuple(p) for p in snakemake.params.pairs]
    build_explorer(dict(zip(pairs, snakemake.input.stores, strict=True)),
                   dict(zip(pairs, snakemake.input.face_stores, strict=True)),
                   dict(zip(pairs, snakemake.input.regions, strict=True)),
                   snakemake.input.manifest, snakemake.output[0],
                   max_trials=snakemake.params.max_trials, chunk_rows=snakemake.params.chunk_rows,
                   confidence=snakemake.input.confidence, explanations=snakemake.input.explanations,
                   vlm=snakemake.input.get("vlm"),
                   verification={k: snakemake.input[f"pair_{k}"]
                                 for k in ("scores", "faces", "xmaps", "regions", "sentences")}
                   if "pair_scores" in snakemake.input.keys() else None)
