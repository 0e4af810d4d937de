"""VGG-Face backbone, weight loaders, triplet models and their training."""

