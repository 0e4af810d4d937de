"""Face verification (seeds 001 and 004): pairs, error rates, C-Score and X-Maps over the backbone."""
