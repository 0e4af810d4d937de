"""Latent structure of the heatmaps: streaming PCA, a convolutional autoencoder, UMAP/t-SNE, clusters."""
