"""VGG-Face backbone, weight loaders, triplet models and their training."""

# Display names of the triplet models (figures, sentences); the explorer's JS keeps its own copy.
MODEL_NAMES = {"hum": "VGG-Hum", "maxp": "VGG-MaxP", "hum_distance": "VGG-Hum-distance"}
