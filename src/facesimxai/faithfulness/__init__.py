"""Which explanation can we trust: perturbation curves, region removal and cross-model masking."""
