"""Static HTML explorer of trials, predictions, heatmap overlays and region shares.

`table` assembles the trial table from the stores; `overlays` renders the heatmap PNGs the
explorer links (and only those); `site` writes the data files and the static app.
"""
