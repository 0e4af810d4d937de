"""Loading VGG-Face weights: FaceSim3D's converted ``vggface.pth`` and Oxford's ``VGG_FACE.t7``.

A wrong or partial file must fail with a message that names the file and what is wrong, never
load half a network silently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from facesimxai.errors import InputError
from facesimxai.models.vgg import VGGFace, conv_layer_names

FC_LAYERS = ("fc6", "fc7", "fc8")


class WeightsError(InputError):
    """A weights file that cannot be used; the message names the file and the problem."""


def expected_keys(model: VGGFace) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def load_state_dict_checked(model: VGGFace, state: dict, path: Path | str) -> VGGFace:
    want = expected_keys(model)
    missing = [k for k in want if k not in state]
    unexpected = [k for k in state if k not in want]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} key(s), e.g. {', '.join(missing[:4])}")
        if unexpected:
            parts.append(f"unexpected key(s) {', '.join(unexpected[:4])}")
        raise WeightsError(f"{path}: not a VGG-Face state dict in FaceSim3D's layout "
                           f"(features.<layer>.*, fc.<layer>.*): {'; '.join(parts)}")
    for k, shape in want.items():
        got = tuple(state[k].shape)
        if got != shape:
            raise WeightsError(f"{path}: {k} has shape {got}, the model expects {shape} "
                               "(check backbone.width, backbone.input_size and backbone.n_classes)")
    model.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    return model


def load_facesim3d_pth(model: VGGFace, path: Path | str) -> VGGFace:
    """FaceSim3D's converted PyTorch state dict (``vggface.pth``)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for truncated or foreign files
        raise WeightsError(
            f"{path}: not a readable PyTorch weights file ({type(exc).__name__}: {exc})") from exc
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: holds a {type(state).__name__}, expected a state dict")
    return load_state_dict_checked(model, state, path)


def load_vgg_face_t7(model: VGGFace, path: Path | str) -> VGGFace:
    """Oxford's LuaTorch ``VGG_FACE.t7``: 13 convolutions then 3 linear layers, in order."""
    import torchfile

    try:
        net = torchfile.load(str(path))
    except Exception as exc:
        raise WeightsError(f"{path}: not a readable Torch7 file ({type(exc).__name__}: {exc})") from exc
    modules = getattr(net, "modules", None)
    if modules is None:
        raise WeightsError(f"{path}: Torch7 object {getattr(net, 'torch_typename', lambda: '?')()} "
                           "has no module list; expected the nn.Sequential of VGG_FACE.t7")
    weighted = [m for m in modules if getattr(m, "_obj", None) is not None and b"weight" in m._obj]
    names = [*conv_layer_names(), *FC_LAYERS]
    if len(weighted) != len(names):
        raise WeightsError(f"{path}: found {len(weighted)} layers with weights, VGG-Face has "
                           f"{len(names)} (13 convolutions, 3 linear)")
    want = expected_keys(model)
    state = {}
    for name, m in zip(names, weighted, strict=True):
        prefix = "fc" if name in FC_LAYERS else "features"
        w = np.asarray(m._obj[b"weight"], np.float32)
        shape = want[f"{prefix}.{name}.weight"]
        if w.size != int(np.prod(shape)):
            raise WeightsError(f"{path}: layer {name} has {w.size} weights, the model expects "
                               f"{shape} (check backbone.width and backbone.input_size)")
        state[f"{prefix}.{name}.weight"] = torch.from_numpy(w.reshape(shape).copy())
        state[f"{prefix}.{name}.bias"] = torch.from_numpy(
            np.asarray(m._obj[b"bias"], np.float32).reshape(-1).copy())
    return load_state_dict_checked(model, state, path)


def load_backbone_weights(model: VGGFace, path: Path | str) -> VGGFace:
    """Dispatch on the file suffix: ``.t7`` (Oxford) or anything else as a PyTorch state dict."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} not found (config key backbone.weights)")
    if path.suffix == ".t7":
        return load_vgg_face_t7(model, path)
    return load_facesim3d_pth(model, path)
