"""Requests to a VLM: the odd-one-out question in several presentation orders, and the
heatmap-reading question. A request is backend-neutral (text and RGB images in order); each
backend turns it into its own wire format (backends/base.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from PIL import Image

from facesimxai.vlm.answers import MAX_REGIONS, heatmap_schema, odd_one_out_schema, region_label

#: Presentation orders (original positions shown as Face 1, 2, 3). Identity first, then the two
#: rotations (with three orders every face is shown once in every slot), then the reversals.
ORDERS: tuple[tuple[int, int, int], ...] = ((0, 1, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0), (0, 2, 1), (1, 0, 2))
MIN_IMAGE_SIDE = 56  # Qwen2-VL crashes on images under 28 px a side; 56 px is two merged patches

Part = str | Image.Image


@dataclass(frozen=True)
class VLMRequest:
    """One question about one trial. `order` lists the original positions in presented order
    (heatmap task: the explained position alone); `model` is the model whose map is shown."""

    request_id: str
    task: str
    trial_id: int
    order: tuple[int, ...]
    faces: tuple[int, ...]
    parts: tuple[Part, ...] = field(repr=False)
    schema: dict = field(repr=False)
    model: str = ""

    @property
    def images(self) -> list[Image.Image]:
        return [p for p in self.parts if isinstance(p, Image.Image)]

    @property
    def prompt_hash(self) -> str:
        """sha256 over the text, the images' pixels and the schema: equal hashes, equal requests."""
        h = hashlib.sha256()
        for part in self.parts:
            if isinstance(part, str):
                h.update(b"T" + part.encode())
            else:
                h.update(b"I" + f"{part.mode}{part.size}".encode() + part.tobytes())
        h.update(json.dumps(self.schema, sort_keys=True).encode())
        return h.hexdigest()


def _region_list(regions: list[str]) -> str:
    return ", ".join(region_label(r) for r in regions)


def odd_one_out_request(trial_id: int, faces: tuple[int, int, int], images: tuple[Image.Image, ...],
                        order: tuple[int, int, int], regions: list[str]) -> VLMRequest:
    """Faces shown in `order`; the answer's 1–3 refers to the presented slots."""
    shown = [faces[p] for p in order]
    parts: list[Part] = ["You see three photographs of faces.\n"]
    for slot, pos in enumerate(order, start=1):
        parts += [f"Face {slot}:", images[pos], "\n"]
    parts.append(
        "Which face is the most dissimilar to the other two (the odd one out)? Then name up to "
        f"{MAX_REGIONS} facial regions of the odd face that make it look different, choosing only from: "
        f"{_region_list(regions)}. 'Left' and 'right' mean the person's own left and right.\n"
        'Answer with JSON only: {"odd_one_out": <1, 2 or 3>, "regions": [<region>, ...]}')
    return VLMRequest(f"odd_one_out/{trial_id}/{''.join(map(str, order))}", "odd_one_out", int(trial_id),
                      tuple(order), tuple(shown), tuple(parts), odd_one_out_schema(regions))


def heatmap_request(trial_id: int, model: str, position: int, face: int, overlay: Image.Image,
                    regions: list[str]) -> VLMRequest:
    """Read a signed relevance overlay (plotting.overlay_rgba colours: red for, blue against)."""
    parts: list[Part] = [
        "This is a face with a relevance heatmap laid over it. The heatmap comes from a face-similarity "
        "model that chose this face as the odd one out of three. The map is signed: red areas are "
        "evidence FOR that choice, blue areas are evidence AGAINST it; the stronger the colour, the "
        "larger the relevance, and uncoloured areas had little influence.\n",
        overlay,
        f"\nName the 1 to {MAX_REGIONS} facial regions with the strongest red (evidence for the choice), "
        f"strongest first, choosing only from: {_region_list(regions)}. 'Left' and 'right' mean the "
        "person's own left and right (the image's right side is the person's left).\n"
        'Answer with JSON only: {"regions": [<region>, ...]}',
    ]
    return VLMRequest(f"heatmap/{model}/{trial_id}", "heatmap", int(trial_id), (int(position),), (int(face),),
                      tuple(parts), heatmap_schema(regions), model=model)
