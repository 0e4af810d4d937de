"""Rule landmarks → facesimxai.landmarks.mesh.compute_landmarks."""

from facesimxai.landmarks.mesh import compute_landmarks
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    compute_landmarks(
        snakemake.input.manifest, snakemake.params.input_size, snakemake.params.landmarks,  # noqa: F821
        landmarks_out=snakemake.output.landmarks, kept_out=snakemake.output.kept,  # noqa: F821
    )
