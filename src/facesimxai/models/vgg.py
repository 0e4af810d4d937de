"""VGG-Face: the VGG-16 layout with FaceSim3D's layer names and state-dict key layout.

Keys are ``features.<layer>.weight|bias`` for the convolutions and ``fc.<layer>.weight|bias`` for
the fully connected layers, so FaceSim3D's converted ``vggface.pth`` loads as is. A width
multiplier scales every layer (1 = VGG-Face; the demo uses 1/8) and the input size may differ
from 224. ReLUs are never in place: zennit's LRP hooks need the pre-activation tensors intact.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from PIL import Image
from torch import nn

#: Convolution blocks of VGG-16: (block, number of convolutions, channels at width 1).
BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512))
FC_WIDTH = 4096
VGGFACE_CLASSES = 2622
#: Per-channel mean subtracted by FaceSim3D after reading the image with OpenCV (BGR order).
FACESIM3D_MEAN = (129.1863, 104.7624, 93.5940)


def conv_layer_names() -> list[str]:
    return [f"conv_{b}_{i}" for b, n, _ in BLOCKS for i in range(1, n + 1)]


def channels(width: float) -> list[int]:
    return [max(1, int(round(c * width))) for _, _, c in BLOCKS]


class VGGFace(nn.Module):
    """VGG-16 with named layers; ``forward(x, until=name)`` returns any intermediate output."""

    def __init__(self, width: float = 1.0, input_size: int = 224, n_classes: int = VGGFACE_CLASSES):
        super().__init__()
        self.width, self.input_size, self.n_classes = width, input_size, n_classes
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        c_in = 3
        for (b, n, _), c in zip(BLOCKS, channels(width), strict=True):
            for i in range(1, n + 1):
                layers[f"conv_{b}_{i}"] = nn.Conv2d(c_in, c, 3, padding=1)
                layers[f"relu_{b}_{i}"] = nn.ReLU(inplace=False)
                c_in = c
            layers[f"maxp_{b}_{n}"] = nn.MaxPool2d(2, 2, ceil_mode=(b == 3))
        self.features = nn.ModuleDict(layers)
        with torch.no_grad():
            x = torch.zeros(1, 3, input_size, input_size)
            for m in self.features.values():
                x = m(x)
        self.pool_shape = tuple(x.shape[1:])
        fc_width = max(1, int(round(FC_WIDTH * width)))
        self.fc = nn.ModuleDict(OrderedDict([
            ("fc6", nn.Linear(int(np.prod(self.pool_shape)), fc_width)),
            ("fc6-relu", nn.ReLU(inplace=False)),
            ("fc6-dropout", nn.Dropout(0.5)),
            ("fc7", nn.Linear(fc_width, fc_width)),
            ("fc7-relu", nn.ReLU(inplace=False)),
            ("fc7-dropout", nn.Dropout(0.5)),
            ("fc8", nn.Linear(fc_width, n_classes)),
        ]))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He initialisation as torchvision's VGG: a deep VGG without batch norm does not learn
        from PyTorch's default init (the signal vanishes). Real weights overwrite this."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def layer_names(self) -> list[str]:
        return [*self.features.keys(), *self.fc.keys()]

    def forward(self, x: torch.Tensor, until: str | None = None) -> torch.Tensor:
        if until is not None and until not in self.layer_names():
            raise KeyError(f"unknown VGG-Face layer {until!r}; layers: {', '.join(self.layer_names())}")
        for name, m in self.features.items():
            x = m(x)
            if name == until:
                return x
        x = torch.flatten(x, 1)
        for name, m in self.fc.items():
            x = m(x)
            if name == until:
                return x
        return x

    def core(self, last_layer: str) -> nn.Sequential:
        """The layers up to and including ``last_layer`` as one Sequential (shared modules).

        Module names stay FaceSim3D's (``conv_1_1`` … ``fc7-relu``) so explainers can assign rules
        by name.
        """
        if last_layer not in self.layer_names():
            raise KeyError(f"unknown last_core_layer {last_layer!r}; layers: {', '.join(self.layer_names())}")
        parts: OrderedDict[str, nn.Module] = OrderedDict()
        for name, m in self.features.items():
            parts[name] = m
            if name == last_layer:
                return nn.Sequential(parts)
        parts["flatten"] = nn.Flatten(1)
        for name, m in self.fc.items():
            parts[name] = m
            if name == last_layer:
                break
        return nn.Sequential(parts)


def preprocess(images: np.ndarray, input_size: int, mode: str = "facesim3d") -> torch.Tensor:
    """uint8 RGB faces (n, H, W, 3) → model input (n, 3, S, S) float32.

    ``facesim3d`` reproduces the original: BGR channel order, 0–255 scale, FaceSim3D's mean
    subtracted per channel in that order. ``rgb01`` is plain RGB in [0, 1].
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"expected uint8 images of shape (n, H, W, 3), got {images.dtype} {images.shape}")
    if images.shape[1:3] != (input_size, input_size):
        images = np.stack([np.asarray(Image.fromarray(im).resize((input_size, input_size),
                                                                 Image.Resampling.BILINEAR))
                           for im in images])
    x = images.astype(np.float32)
    if mode == "facesim3d":
        x = x[..., ::-1] - np.array(FACESIM3D_MEAN, np.float32)
    elif mode == "rgb01":
        x = x / 255.0
    else:
        raise ValueError(f"unknown preprocessing {mode!r} (config key backbone.preprocessing)")
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
