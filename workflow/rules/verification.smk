"""Verification stage (seeds 001 and 004): pairs → similarity, thresholds, C-Scores and error
rates → X-Maps → figures (rule → script → facesimxai.verification.*)."""


include: "functions/verification.smk"


rule verification_pairs:
    input:
        # an LFW pairs file and its folder are inputs, so editing them re-runs the stage
        **(
            {
                "pairs_file": config["verification"]["lfw"]["pairs"] or "verification.lfw.pairs-is-not-set",
                "images": config["verification"]["lfw"]["images"] or "verification.lfw.images-is-not-set",
            }
            if config["verification"]["source"] == "lfw"
            else {}
        ),
    output:
        faces=directory(f"{VERIFY}/faces.zarr"),
        pairs=f"{VERIFY}/pairs.parquet",
    log:
        f"{R}/logs/verification_pairs.log",
    conda:
        "../../envs/analysis.yaml"
    threads: config["threads"]
    params:
        verification=settings("verification", VERIFICATION_PAIR_KEYS),
        augment=config["pretrain"]["augment"],
        image_size=config["image_size"],
        resize=config["faces"]["resize"],
    script:
        "../../scripts/verification_pairs.py"


rule verification_scores:
    input:
        backbone=rules.backbone.output.checkpoint,
        faces=rules.verification_pairs.output.faces,
        pairs=rules.verification_pairs.output.pairs,
    output:
        scores=f"{VERIFY}/scores.parquet",
        metrics=f"{VERIFY}/metrics.json",
    log:
        f"{R}/logs/verification_scores.log",
    conda:
        "../../envs/torch.yaml"
    resources:
        gpu=gpus(),
    params:
        verification=settings("verification", ("c_score_bins",)),
        layer=verification_layer(),
        device=config["device"],
    script:
        "../../scripts/verification_scores.py"


rule verification_xmaps:
    input:
        backbone=rules.backbone.output.checkpoint,
        faces=rules.verification_pairs.output.faces,
        scores=rules.verification_scores.output.scores,
    output:
        xmaps=directory(f"{VERIFY}/xmaps.zarr"),
        faithfulness=f"{VERIFY}/xmaps_faithfulness.json",
    log:
        f"{R}/logs/verification_xmaps.log",
    conda:
        "../../envs/torch.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
        runtime=60,
    params:
        xmaps=config["verification"]["xmaps"],
        baseline=config["faithfulness"]["baseline"],
        layer=verification_layer(),
        device=config["device"],
    script:
        "../../scripts/verification_xmaps.py"


rule verification_landmarks:
    input:
        rules.verification_pairs.output.faces,
    output:
        directory(f"{VERIFY}/landmarks.zarr"),
    log:
        f"{R}/logs/verification_landmarks.log",
    conda:
        "../../envs/landmarks.yaml"
    params:
        landmarks=config["landmarks"],
        input_size=config["backbone"]["input_size"],
    script:
        "../../scripts/verification_landmarks.py"


rule verification_regions:
    input:
        backbone=rules.backbone.output.checkpoint,
        faces=rules.verification_pairs.output.faces,
        landmarks=rules.verification_landmarks.output[0],
        scores=rules.verification_scores.output.scores,
        regions=regions_file(),
    output:
        table=f"{VERIFY}/regions.parquet",
        sentences=f"{VERIFY}/sentences.parquet",
    log:
        f"{R}/logs/verification_regions.log",
    conda:
        "../../envs/torch.yaml"
    resources:
        gpu=gpus(),
    params:
        regions=settings("regions", ("margin", "priority")),
        baseline=config["faithfulness"]["baseline"],
        n_pairs=config["verification"]["xmaps"]["n_pairs"],
        layer=verification_layer(),
        device=config["device"],
    script:
        "../../scripts/verification_regions.py"


rule verification_truth:
    input:
        backbone=rules.backbone.output.checkpoint,
    output:
        table=f"{VERIFY}/truth.parquet",
        summary=f"{VERIFY}/truth.json",
    log:
        f"{R}/logs/verification_truth.log",
    conda:
        "../../envs/torch.yaml"
    threads: config["threads"]
    resources:
        gpu=gpus(),
        runtime=60,
    params:
        truth=config["verification"]["truth"],
        xmaps=config["verification"]["xmaps"],
        image_size=config["image_size"],
        layer=verification_layer(),
        device=config["device"],
    script:
        "../../scripts/verification_truth.py"


rule verification_figures:
    input:
        truth=rules.verification_truth.output.summary,
        faces=rules.verification_pairs.output.faces,
        scores=rules.verification_scores.output.scores,
        metrics=rules.verification_scores.output.metrics,
        xmaps=rules.verification_xmaps.output.xmaps,
    output:
        curves=report(
            f"{R}/figures/verification/error_curves.png",
            caption="../report/verification_curves.rst",
            category="Verification",
        ),
        reliability=report(
            f"{R}/figures/verification/c_score_reliability.png",
            caption="../report/verification_reliability.rst",
            category="Verification",
        ),
        xmaps=report(
            f"{R}/figures/verification/xmaps.png",
            caption="../report/verification_xmaps.rst",
            category="Verification",
        ),
        truth=report(
            f"{R}/figures/verification/truth.png",
            caption="../report/verification_truth.rst",
            category="Verification",
        ),
    log:
        f"{R}/logs/verification_figures.log",
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/verification_figures.py"
