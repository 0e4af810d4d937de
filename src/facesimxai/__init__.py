"""FaceSimXAI: explain human-aligned face-similarity models (LRP, regions, latent structure, VLMs)."""

__version__ = "0.1.0"
