"""Computing explanations: the heatmaps of triplet decisions (LRP composites, engines, decision
methods) that go into the heatmap store. Reading them into tables and words is ``explanations``."""
