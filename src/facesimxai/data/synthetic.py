"""Synthetic face sets: analysis identities and augmented pretraining renders.

All randomness is drawn up front from one seeded generator, so the images do not depend on the
number of worker processes used to render them.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from facesimxai.data.face_params import PARAMETER_NAMES, sample_parameters
from facesimxai.data.render import Expression, Lighting, Pose, RenderSettings, render_face


@dataclass(frozen=True)
class Augmentation:
    """Ranges of the per-render jitter of the pretraining set (see config ``pretrain.augment``)."""

    max_rotation_deg: float = 8.0
    max_shift: float = 0.04
    scale_range: tuple[float, float] = (0.92, 1.08)
    lighting_strength: tuple[float, float] = (0.04, 0.25)
    brightness: tuple[float, float] = (0.9, 1.1)
    expression: float = 0.6
    noise_std: float = 0.01
    colour_jitter: float = 0.0  # sd of per-render skin_tone / hair_color jitter (parameter units)
    channel_gain: float = 0.0  # per-render colour cast: each RGB channel × U(1 − g, 1 + g)

    @classmethod
    def from_config(cls, cfg: dict) -> Augmentation:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()})


def random_settings(rng: np.random.Generator, aug: Augmentation) -> RenderSettings:
    angle = rng.uniform(0, 2 * np.pi)
    return RenderSettings(
        pose=Pose(
            angle_deg=float(rng.uniform(-aug.max_rotation_deg, aug.max_rotation_deg)),
            scale=float(rng.uniform(*aug.scale_range)),
            shift=tuple(float(s) for s in rng.uniform(-aug.max_shift, aug.max_shift, 2)),
        ),
        expression=Expression(
            smile=float(rng.uniform(-1, 1) * aug.expression),
            brow_raise=float(rng.uniform(-1, 1) * aug.expression),
            eye_open=float(1 + rng.uniform(-0.3, 0.2) * aug.expression),
        ),
        lighting=Lighting(
            direction=(float(np.cos(angle)), float(np.sin(angle))),
            strength=float(rng.uniform(*aug.lighting_strength)),
            brightness=float(rng.uniform(*aug.brightness)),
        ),
    )


def _render_job(job) -> np.ndarray:
    params, settings, size, noise_std, noise_seed, *gain = job
    img = render_face(params, settings, size)
    if gain and gain[0] is not None:
        img = np.clip(np.round(img * np.asarray(gain[0])), 0, 255).astype(np.uint8)
    if noise_std > 0:
        noise = np.random.default_rng(noise_seed).normal(0, noise_std * 255, img.shape)
        img = np.clip(np.round(img + noise), 0, 255).astype(np.uint8)
    return img


def render_many(jobs: Sequence, workers: int = 1, desc: str = "rendering") -> np.ndarray:
    """Render jobs ``(params, settings, size, noise_std, noise_seed[, rgb_gain])`` in order."""
    if workers > 1 and len(jobs) > 16:
        with ProcessPoolExecutor(workers) as pool:
            images = list(tqdm(pool.map(_render_job, jobs, chunksize=8), total=len(jobs), desc=desc))
    else:
        images = [_render_job(j) for j in tqdm(jobs, desc=desc)]
    return np.stack(images)


def analysis_faces(n: int, seed: int, size: int, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Neutral frontal renders of ``n`` random identities: (images, parameters)."""
    params = sample_parameters(n, np.random.default_rng(seed))
    jobs = [(p, RenderSettings(), size, 0.0, 0) for p in params]
    return render_many(jobs, workers, "analysis faces"), params


def pretrain_renders(n_identities: int, renders_per_identity: int, seed: int, size: int,
                     aug: Augmentation, workers: int = 1):
    """Augmented renders of fresh identities: (images, identity per render, identity parameters,
    parameters of each render).

    Identities come from a seed stream separate from the analysis faces, so the two sets are
    disjoint draws from the same face space. With ``colour_jitter`` a render's skin tone and hair
    colour scatter around its identity's, so colour alone no longer identifies a person; extra
    random numbers are drawn only for the augmentations that are on, so renders without them stay
    as they were.
    """
    rng = np.random.default_rng([seed, 1])
    params = sample_parameters(n_identities, rng)
    identity = np.repeat(np.arange(n_identities), renders_per_identity)
    colour = [PARAMETER_NAMES.index("skin_tone"), PARAMETER_NAMES.index("hair_color")]
    jobs, render_params = [], []
    for i in identity:
        p = params[i].copy()
        settings = random_settings(rng, aug)
        noise_seed = int(rng.integers(2**31))
        if aug.colour_jitter > 0:
            p[colour] = np.clip(p[colour] + rng.normal(0, aug.colour_jitter, 2), -1, 1)
        gain = rng.uniform(1 - aug.channel_gain, 1 + aug.channel_gain, 3) if aug.channel_gain > 0 else None
        jobs.append((p, settings, size, aug.noise_std, noise_seed, gain))
        render_params.append(p)
    return render_many(jobs, workers, "pretrain renders"), identity, params, np.array(render_params)
