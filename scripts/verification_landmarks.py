"""Rule verification_landmarks → facesimxai.landmarks.mesh.compute_store_landmarks."""

from facesimxai.landmarks.mesh import compute_store_landmarks
from facesimxai.logs import rule_logging

with rule_logging(snakemake.log[0]):  # noqa: F821 (injected by Snakemake)
    compute_store_landmarks(
        snakemake.input[0], snakemake.params.input_size, snakemake.params.landmarks,  # noqa: F821
        landmarks_out=snakemake.output[0],  # noqa: F821
    )
