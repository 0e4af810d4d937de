"""Region relevance, model comparison per region, and ground-truth recovery (synthetic data)."""
