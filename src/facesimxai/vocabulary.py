"""The project's shared names: facial regions, triplet models, positions, display names, colours.

Every stage, the Snakefile and the figures take these from here, so a region or model is added,
renamed or coloured in one place (the config schema's ``models.trained`` enum is checked
against ``MODELS`` by tests/test_vocabulary.py; the explorer's JS receives them in its metadata).
"""

from __future__ import annotations

#: The 12 facial regions of the thesis. "left"/"right" are the person's own left and right,
#: so ``left_eye`` appears on the image's right-hand side.
REGIONS: tuple[str, ...] = (
    "forehead",
    "left_eyebrow",
    "right_eyebrow",
    "left_eye",
    "right_eye",
    "between_eyes",
    "nose_bridge",
    "nose_tip",
    "left_cheek",
    "right_cheek",
    "mouth",
    "chin",
)

#: One clearly distinct colour per region (thesis order); left/right pairs share a hue family.
REGION_COLOURS: dict[str, str] = {
    "forehead": "#1f77b4", "left_eyebrow": "#393b79", "right_eyebrow": "#9c9ede",
    "left_eye": "#2ca02c", "right_eye": "#98df8a", "between_eyes": "#222222",
    "nose_bridge": "#ff7f0e", "nose_tip": "#ffdd57", "left_cheek": "#e377c2",
    "right_cheek": "#f7b6d2", "mouth": "#d62728", "chin": "#17becf",
}

#: Triplet model ids (``results/models/{model}/``): the thesis's two and the distance variant.
MODELS: tuple[str, ...] = ("hum", "maxp", "hum_distance")
#: The thesis's models, always trained; the stages that compare "the models" compare these.
THESIS_MODELS: tuple[str, ...] = ("hum", "maxp")

#: Display names in figures, sentences and tables.
MODEL_NAMES: dict[str, str] = {"hum": "VGG-Hum", "maxp": "VGG-MaxP", "hum_distance": "VGG-Hum-distance"}
DISPLAY_NAMES: dict[str, str] = {**MODEL_NAMES, "backbone": "backbone similarity", "vlm": "VLM",
                                 "human": "human"}

#: Positions of a triplet's faces (head1, head2, head3).
POSITIONS: tuple[int, ...] = (0, 1, 2)


def display_name(key: str) -> str:
    """A model's (or reference's) display name; unknown ids are shown as they are."""
    return DISPLAY_NAMES.get(key, key)


def model_wildcard() -> str:
    """Regex for Snakemake's ``{model}`` wildcard: longest id first, so ``hum_distance`` is not
    read as ``hum``."""
    return "|".join(sorted(MODELS, key=len, reverse=True))
