"""Explaining triplet decisions: LRP composites by module name, engines, and the heatmap store."""
