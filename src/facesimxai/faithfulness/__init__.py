"""Which explanation can we trust: perturbation curves, region removal and cross-model masking."""

#: Region-removal techniques of seed 004, in table order. Named here, free of torch, because the
#: summary (``envs/analysis.yaml``) reads them as well as ``region_removal`` (``envs/torch.yaml``).
TECHNIQUES = ("single_removal", "greedy_removal", "single_aggregation", "greedy_aggregation", "average")
