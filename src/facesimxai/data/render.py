"""Deterministic renderer of frontal synthetic faces from the parameters in ``face_params``.

Shapes are rasterised as polygons on a 4× supersampled canvas (PIL) and box-filtered down,
which anti-aliases every edge; soft shading uses compact-support bumps so that each parameter
changes pixels only near the part it moves. Shading is a fixed field in face coordinates (it
does not depend on the head shape) for the same reason. Nothing here is random: augmentation
comes in through ``RenderSettings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from facesimxai.data.face_params import PARAMETER_NAMES

SUPERSAMPLE = 4
_CENTRE = np.array([0.5, 0.5])


@dataclass(frozen=True)
class Pose:
    """Similarity transform of the whole face about the image centre."""

    angle_deg: float = 0.0
    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class Expression:
    smile: float = 0.0  # mouth corners up (+) or down (-), in [-1, 1]
    brow_raise: float = 0.0  # both brows up (+), in [-1, 1]
    eye_open: float = 1.0  # multiplier of the eye opening


@dataclass(frozen=True)
class Lighting:
    direction: tuple[float, float] = (-0.4, -0.6)  # light from the upper left
    strength: float = 0.12
    brightness: float = 1.0


@dataclass(frozen=True)
class RenderSettings:
    pose: Pose = field(default_factory=Pose)
    expression: Expression = field(default_factory=Expression)
    lighting: Lighting = field(default_factory=Lighting)


#: Renderer parts (named in ``FaceParameter.parts``) → (scene object, kind). "area" objects
#: may change anywhere they cover; "edge" objects only along their boundary and where the
#: boundary moved. Used by the locality tests and documented in docs/synthetic-face-space.md.
PART_OBJECTS: dict[str, tuple[tuple[str, str], ...]] = {
    "outline": (("head", "edge"), ("ears", "area"), ("fringe", "edge")),
    "jaw": (("head", "edge"),),
    "chin": (("head", "edge"),),
    "eyes": (("eyes", "area"), ("sockets", "area")),
    "brows": (("brows", "area"),),
    "nose": (("nose", "area"),),
    "mouth": (("lips", "area"),),
    "skin": (("head", "area"), ("ears", "area"), ("neck", "area")),
    "hair": (("back_hair", "area"), ("fringe", "area")),
    "hairline": (("fringe", "edge"),),
}


def _mix(palette: np.ndarray, t: float) -> np.ndarray:
    """Piecewise-linear colour from a palette, t in [-1, 1]."""
    x = (np.clip(t, -1, 1) + 1) / 2 * (len(palette) - 1)
    i = min(int(np.floor(x)), len(palette) - 2)
    return palette[i] + (x - i) * (palette[i + 1] - palette[i])


_SKIN = np.array([[238, 205, 180], [205, 155, 120], [125, 85, 60]], float) / 255
_HAIR = np.array([[35, 25, 20], [105, 65, 40], [205, 165, 105]], float) / 255
_BROW = np.array([60, 42, 32], float) / 255
_SCLERA = np.array([238, 234, 228], float) / 255
_IRIS = np.array([95, 70, 45], float) / 255
_LIP = np.array([175, 80, 80], float) / 255
_SHIRT = np.array([60, 75, 100], float) / 255


def _bezier(p0, p1, p2, p3, n: int = 24) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    p0, p1, p2, p3 = (np.asarray(p, float) for p in (p0, p1, p2, p3))
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 64) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


class _Canvas:
    """Maps face coordinates ([0, 1]², y down) to image pixels and rasterises shapes."""

    def __init__(self, size: int, pose: Pose):
        self.size = size
        a = np.deg2rad(pose.angle_deg)
        self.rot = pose.scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        self.shift = np.asarray(pose.shift, float)
        # Face coordinates of every output pixel centre, for the soft shading fields.
        px = (np.arange(size) + 0.5) / size
        img = np.stack(np.meshgrid(px, px, indexing="xy"), axis=-1)
        face = (img - _CENTRE - self.shift) @ np.linalg.inv(self.rot).T + _CENTRE
        self.u, self.v = face[..., 0], face[..., 1]

    def polygon(self, pts: np.ndarray) -> np.ndarray:
        """Anti-aliased coverage (0..1) of a polygon given in face coordinates."""
        ss, size = SUPERSAMPLE, self.size
        img_pts = ((pts - _CENTRE) @ self.rot.T + _CENTRE + self.shift) * size * ss
        out = np.zeros((size, size), np.float32)
        # Rasterise only the polygon's bounding box (in whole output pixels): most parts are
        # small, and this makes rendering ~10x faster than drawing the full canvas.
        lo = np.clip(np.floor(img_pts.min(0) / ss).astype(int) - 1, 0, size)
        hi = np.clip(np.ceil(img_pts.max(0) / ss).astype(int) + 1, 0, size)
        (x0, y0), (x1, y1) = lo, hi
        if x1 <= x0 or y1 <= y0:
            return out
        canvas = Image.new("L", ((x1 - x0) * ss, (y1 - y0) * ss), 0)
        local = img_pts - [x0 * ss, y0 * ss]
        ImageDraw.Draw(canvas).polygon([tuple(p) for p in local], fill=255)
        cov = np.asarray(canvas, np.float32).reshape(y1 - y0, ss, x1 - x0, ss).mean(axis=(1, 3))
        out[y0:y1, x0:x1] = cov / 255
        return out

    def bump(self, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
        """Smooth bump (1 - r²)² with compact support inside the ellipse."""
        r2 = ((self.u - cx) / rx) ** 2 + ((self.v - cy) / ry) ** 2
        return np.clip(1 - r2, 0, None) ** 2

    def stroke(self, p0, p1, width: float) -> np.ndarray:
        """Soft line of the given half-width between two points, compact support."""
        p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
        d = p1 - p0
        t = np.clip(((self.u - p0[0]) * d[0] + (self.v - p0[1]) * d[1]) / (d @ d), 0, 1)
        dist2 = (self.u - p0[0] - t * d[0]) ** 2 + (self.v - p0[1] - t * d[1]) ** 2
        return np.clip(1 - dist2 / width**2, 0, None) ** 2


def _params_dict(params) -> dict[str, float]:
    if isinstance(params, dict):
        unknown = set(params) - set(PARAMETER_NAMES)
        if unknown:
            raise KeyError(f"unknown face parameters: {sorted(unknown)}")
        return {k: float(params.get(k, 0.0)) for k in PARAMETER_NAMES}
    values = np.asarray(params, float).ravel()
    if values.size != len(PARAMETER_NAMES):
        raise ValueError(f"expected {len(PARAMETER_NAMES)} face parameters, got {values.size}")
    return dict(zip(PARAMETER_NAMES, values, strict=True))


def build_scene(params, settings: RenderSettings, size: int) -> dict[str, np.ndarray]:
    """Coverage maps of every scene object plus the composited image under key ``image``."""
    p = _params_dict(params)
    ex, light = settings.expression, settings.lighting
    cv = _Canvas(size, settings.pose)
    cx = 0.5

    # --- geometry in face coordinates -------------------------------------------------
    hw = 0.285 + 0.035 * p["head_width"]
    y_top, y_cheek, y_jaw = 0.13, 0.50, 0.74
    jw = hw * (0.78 + 0.10 * p["jaw_width"])
    y_chin = 0.88 + 0.03 * p["chin_length"]
    t = np.linspace(-np.pi / 2, 0, 32)
    arc = np.stack([hw * np.cos(t), y_cheek + (y_cheek - y_top) * np.sin(t)], axis=1)
    seg1 = _bezier((hw, y_cheek), (hw, y_cheek + 0.12), (jw + 0.02, y_jaw - 0.06), (jw, y_jaw))
    seg2 = _bezier((jw, y_jaw), (jw - 0.03, y_jaw + 0.08), (0.11, y_chin), (0.0, y_chin))
    right = np.concatenate([arc, seg1[1:], seg2[1:]])
    left = right[::-1] * [-1, 1]
    head_outline = np.concatenate([right, left[1:]]) + [cx, 0]

    es = 0.11 + 0.018 * p["eye_spacing"]
    ey = 0.455 + 0.018 * p["eye_height"]
    ew = 0.052 + 0.010 * p["eye_size"]
    eh = (0.021 + 0.005 * p["eye_size"]) * ex.eye_open
    ri = 0.017 + 0.003 * p["eye_size"]

    yb = 0.365 - 0.018 * p["brow_height"] - 0.010 * ex.brow_raise
    bt = 0.011 + 0.006 * p["brow_thickness"]

    ny = 0.60 + 0.025 * p["nose_length"]
    nw = 0.034 + 0.010 * p["nose_width"]

    my = 0.715 + 0.020 * p["mouth_height"]
    # Lip thickness once moved the lips by 0.7 px at 112 px (pixel probe R² 0.25): too little for
    # any model to see what the observers weigh; now by about 1.3 px.
    mw = 0.076 + 0.024 * p["mouth_width"]
    ut = 0.019 + 0.012 * p["lip_thickness"]
    lt = 0.023 + 0.013 * p["lip_thickness"]

    y_hl = 0.25 + 0.04 * p["hairline"]

    # --- coverage of each object ------------------------------------------------------
    obj: dict[str, np.ndarray] = {}
    obj["shirt"] = cv.polygon(np.array([[0.02, 1.1], [0.08, 0.97], [0.33, 0.93], [0.67, 0.93],
                                        [0.92, 0.97], [0.98, 1.1]]))
    obj["neck"] = cv.polygon(np.array([[0.40, 0.70], [0.60, 0.70], [0.62, 1.1], [0.38, 1.1]]))
    obj["back_hair"] = cv.polygon(_ellipse(cx, 0.40, 0.34, 0.31))
    ears = [cv.polygon(_ellipse(cx + s * (hw + 0.004), 0.47, 0.03, 0.065)) for s in (-1, 1)]
    obj["ears"] = np.maximum(*ears)
    obj["head"] = cv.polygon(head_outline)
    hairline = np.stack([np.linspace(0, 1, 48), np.zeros(48)], axis=1)
    hairline[:, 1] = y_hl + 0.06 * ((hairline[:, 0] - cx) / 0.30) ** 2
    fringe_poly = np.concatenate([hairline, [[1.0, 0.0], [0.0, 0.0]]])
    # Clip to head ∪ back hair (same colour) so no skin seam shows at the head edge.
    obj["fringe"] = np.minimum(cv.polygon(fringe_poly), np.maximum(obj["head"], obj["back_hair"]))

    brows = []
    for s in (-1, 1):
        tau = np.linspace(-1, 1, 24)  # -1 = inner end, +1 = outer end
        x = cx + s * (0.115 + tau * 0.065)
        y = yb - 0.012 * (1 - tau**2) - 0.0125 * p["brow_slope"] * (-tau)
        th = bt * (1 - 0.55 * np.clip(tau, 0, None) ** 2) / 2
        brows.append(cv.polygon(np.concatenate([np.stack([x, y - th], 1),
                                                np.stack([x, y + th], 1)[::-1]])))
    obj["brows"] = np.maximum(*brows)

    eye_cov, iris_cov, pupil_cov, lid_cov, sockets = [], [], [], [], []
    for s in (-1, 1):
        ecx = cx + s * es
        xs = np.linspace(-1, 1, 32)
        upper = np.stack([ecx + xs * ew, ey - eh * np.sqrt(1 - xs**2)], 1)
        lower = np.stack([ecx + xs * ew, ey + 0.8 * eh * np.sqrt(1 - xs**2)], 1)[::-1]
        almond = cv.polygon(np.concatenate([upper, lower]))
        eye_cov.append(almond)
        iris_cov.append(np.minimum(cv.polygon(_ellipse(ecx, ey, ri, ri)), almond))
        pupil_cov.append(np.minimum(cv.polygon(_ellipse(ecx, ey, 0.45 * ri, 0.45 * ri)), almond))
        lid = np.concatenate([upper + [0, -0.004], (upper + [0, 0.0015])[::-1]])
        lid_cov.append(cv.polygon(lid))
        sockets.append(cv.bump(ecx, ey - 0.006, ew * 1.55, eh * 1.6 + 0.018))
    obj["eyes"] = np.maximum(np.maximum(*eye_cov), np.maximum(*lid_cov))
    obj["sockets"] = np.maximum(*sockets)

    bridge = sum(cv.stroke((cx + s * 0.022, 0.47), (cx + s * 0.75 * nw, ny - 0.025), 0.009)
                 for s in (-1, 1))
    wings = sum(cv.bump(cx + s * 0.8 * nw, ny - 0.004, 0.019, 0.017) for s in (-1, 1))
    nostrils = sum(cv.polygon(_ellipse(cx + s * 0.45 * nw, ny + 0.008, 0.011, 0.0055))
                   for s in (-1, 1))
    tip = cv.bump(cx, ny - 0.012, 0.022, 0.02)
    under = cv.bump(cx, ny + 0.021, nw + 0.01, 0.011)
    obj["nose"] = np.maximum.reduce([bridge, wings, nostrils, tip, under])

    xs = np.linspace(-1, 1, 40)
    curve = 0.010 * ex.smile
    line_y = my - curve * xs**2
    mx = cx + xs * mw
    bow = 1 - 0.25 * np.exp(-((xs / 0.18) ** 2))
    upper_lip = cv.polygon(np.concatenate([
        np.stack([mx, line_y - ut * np.clip(1 - xs**2, 0, 1) ** 0.7 * bow], 1),
        np.stack([mx, line_y], 1)[::-1]]))
    lower_lip = cv.polygon(np.concatenate([
        np.stack([mx, line_y], 1),
        np.stack([mx, line_y + lt * np.clip(1 - xs**2, 0, 1) ** 0.6], 1)[::-1]]))
    mouth_line = cv.polygon(np.concatenate([np.stack([mx, line_y - 0.002], 1),
                                            np.stack([mx, line_y + 0.002], 1)[::-1]]))
    obj["lips"] = np.maximum.reduce([upper_lip, lower_lip, mouth_line])

    # --- colour and shading -------------------------------------------------------------
    skin = _mix(_SKIN, p["skin_tone"])
    hair = _mix(_HAIR, p["hair_color"])
    dx, dy = light.direction
    light_field = 1 + light.strength * (dx * (cv.u - 0.5) + dy * (cv.v - 0.5)) / 0.3
    round_field = 1 - 0.28 * np.clip(((cv.u - 0.5) / 0.33) ** 2, 0, 1.5)
    shade = (light_field * round_field * light.brightness)[..., None]
    face_shade = (1 - 0.13 * obj["sockets"] - 0.10 * np.clip(bridge, 0, 1)
                  - 0.10 * np.clip(wings, 0, 1) - 0.14 * under + 0.08 * tip)[..., None]

    bg = np.array([0.80, 0.82, 0.85]) * (1.05 - 0.1 * cv.v)[..., None]
    img = bg * light.brightness
    layers = [
        (obj["shirt"], _SHIRT * shade),
        (obj["neck"], skin * 0.82 * shade),
        (obj["back_hair"], hair * (0.9 + 0.1 * shade)),
        (obj["ears"], skin * 0.88 * shade),
        (obj["head"], skin * shade * face_shade),
        (obj["fringe"], hair * (0.9 + 0.1 * shade)),
        (obj["brows"], _BROW * shade),
        (np.maximum(*eye_cov), _SCLERA * shade),
        (np.maximum(*iris_cov), _IRIS * shade),
        (np.maximum(*pupil_cov), np.array([0.05, 0.04, 0.04])),
        (np.maximum(*lid_cov), np.array([0.18, 0.12, 0.10])),
        (nostrils, skin * 0.35),
        (upper_lip, (0.45 * skin + 0.55 * _LIP) * 0.88 * shade),
        (lower_lip, (0.45 * skin + 0.55 * _LIP) * shade),
        (mouth_line, np.array([0.32, 0.14, 0.14])),
    ]
    for alpha, colour in layers:
        a = alpha[..., None]
        img = img * (1 - a) + a * colour
    obj["skin"] = np.maximum.reduce([obj["head"], obj["ears"], obj["neck"]])
    obj["image"] = np.clip(img, 0, 1)
    return obj


def render_face(params, settings: RenderSettings | None = None, size: int = 224) -> np.ndarray:
    """Render one face as an (size, size, 3) uint8 RGB image."""
    scene = build_scene(params, settings or RenderSettings(), size)
    return np.round(scene["image"] * 255).astype(np.uint8)


def object_masks(params, settings: RenderSettings | None = None,
                 size: int = 224) -> dict[str, np.ndarray]:
    """Boolean support of each scene object (where it covers or shades any pixel)."""
    scene = build_scene(params, settings or RenderSettings(), size)
    return {k: v > 0 for k, v in scene.items() if k != "image"}
