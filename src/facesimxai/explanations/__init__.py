"""Explanations as people read them: one table row per model × explained trial (decision,
confidence, regions for and against) and its plain-language sentence (rule ``explanations``,
``results/explanations/``). The heatmaps these rest on are computed by ``explain``."""
