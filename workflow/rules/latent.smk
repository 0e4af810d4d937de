"""Latent stage: streaming PCA, a convolutional autoencoder on signed maps, UMAP/t-SNE and
clusters, per model × explainer.

rule → script → facesimxai.latent.* (pca.run_pca, autoencoder.run_autoencoder, embed.run_embed,
figures.plot_latent_figures).
"""


include: "functions/latent.smk"


rule pca:
    input:
        store=f"{R}/heatmaps/{{model}}/{{explainer}}.zarr",
    output:
        directory(f"{LATENT}/pca.zarr"),
    log:
        f"{R}/logs/pca_{{model}}_{{explainer}}.log",
    conda:
        "../../envs/analysis.yaml"
    resources:
        mem_mb=4000,
    params:
        pca=config["latent"]["pca"],
        normalise=config["latent"]["normalise"],
    script:
        "../../scripts/pca.py"


rule autoencoder:
    input:
        store=f"{R}/heatmaps/{{model}}/{{explainer}}.zarr",
    output:
        latent=directory(f"{LATENT}/autoencoder.zarr"),
        weights=f"{LATENT}/autoencoder.pt",
        metrics=f"{LATENT}/autoencoder.json",
    log:
        f"{R}/logs/autoencoder_{{model}}_{{explainer}}.log",
    conda:
        "../../envs/torch.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
        mem_mb=4000,
        runtime=60,
    params:
        cfg=config["latent"]["autoencoder"],
        normalise=config["latent"]["normalise"],
        device=config["device"],
    script:
        "../../scripts/autoencoder.py"


rule embed:
    input:
        pca=f"{LATENT}/pca.zarr",
        latent=f"{LATENT}/autoencoder.zarr",
        store=f"{R}/heatmaps/{{model}}/{{explainer}}.zarr",
    output:
        table=f"{LATENT}/embedding.parquet",
        table_csv=f"{LATENT}/embedding.csv",
        clusters=f"{LATENT}/clusters.json",
        means=directory(f"{LATENT}/cluster_means.zarr"),
    log:
        f"{R}/logs/embed_{{model}}_{{explainer}}.log",
    conda:
        "../../envs/analysis.yaml"
    params:
        cfg=config["latent"]["embed"],
        normalise=config["latent"]["normalise"],
    script:
        "../../scripts/embed.py"


rule latent_figures:
    input:
        pca=f"{LATENT}/pca.zarr",
        metrics=f"{LATENT}/autoencoder.json",
        table=f"{LATENT}/embedding.parquet",
        means=f"{LATENT}/cluster_means.zarr",
        clusters=f"{LATENT}/clusters.json",
    output:
        pca=report(
            f"{R}/figures/latent/{{model}}_{{explainer}}_pca.png",
            caption="../report/latent_pca.rst",
            category="6 Latent structure",
            subcategory="{model}",
        ),
        embedding=report(
            f"{R}/figures/latent/{{model}}_{{explainer}}_embedding.png",
            caption="../report/latent_embedding.rst",
            category="6 Latent structure",
            subcategory="{model}",
        ),
        clusters=report(
            f"{R}/figures/latent/{{model}}_{{explainer}}_clusters.png",
            caption="../report/latent_clusters.rst",
            category="6 Latent structure",
            subcategory="{model}",
        ),
    log:
        f"{R}/logs/latent_figures_{{model}}_{{explainer}}.log",
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/latent_figures.py"
