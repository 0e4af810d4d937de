"""Data contracts: the one place that knows the layout of each artifact later stages read.

Stages write and read the heatmap store through ``artifacts.heatmaps`` and the region tables
through ``artifacts.region_tables``; nothing else spells their variable or column names.
"""
