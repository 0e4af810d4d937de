"""Minimal writer of LuaTorch ``.t7`` files, for tests only (torchfile can only read).

Writes the subset of the Torch7 serialisation format that Oxford's VGG_FACE.t7 uses: numbers,
strings, tables and torch objects (nn modules, FloatTensor with FloatStorage).
"""

from __future__ import annotations

import struct

import numpy as np

NIL, NUMBER, STRING, TABLE, TORCH = 0, 1, 2, 3, 4


class T7Object:
    def __init__(self, typename: str, fields: dict):
        self.typename, self.fields = typename, fields


class _Writer:
    def __init__(self, fh):
        self.fh, self.index = fh, 0

    def int(self, v):
        self.fh.write(struct.pack("i", v))

    def long(self, v):
        self.fh.write(struct.pack("q", v))

    def string(self, s: str | bytes):
        b = s.encode() if isinstance(s, str) else s
        self.int(len(b))
        self.fh.write(b)

    def _next(self):
        self.index += 1
        return self.index

    def obj(self, v):
        if v is None:
            self.int(NIL)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            self.int(NUMBER)
            self.fh.write(struct.pack("d", float(v)))
        elif isinstance(v, str):
            self.int(STRING)
            self.string(v)
        elif isinstance(v, np.ndarray):
            self.tensor(v)
        elif isinstance(v, T7Object):
            self.int(TORCH)
            self.int(self._next())
            self.string("V 1")
            self.string(v.typename)
            self.obj(v.fields)
        elif isinstance(v, (dict, list)):
            items = v.items() if isinstance(v, dict) else enumerate(v, start=1)
            items = list(items)
            self.int(TABLE)
            self.int(self._next())
            self.int(len(items))
            for k, val in items:
                self.obj(k)
                self.obj(val)
        else:
            raise TypeError(type(v))

    def tensor(self, a: np.ndarray):
        a = np.ascontiguousarray(a, np.float32)
        self.int(TORCH)
        self.int(self._next())
        self.string("V 1")
        self.string("torch.FloatTensor")
        self.int(a.ndim)
        for s in a.shape:
            self.long(s)
        for s in (np.array(a.strides) // 4):
            self.long(int(s))
        self.long(1)  # storage offset, 1-based
        self.int(TORCH)
        self.int(self._next())
        self.string("V 1")
        self.string("torch.FloatStorage")
        self.long(a.size)
        self.fh.write(a.tobytes())


def write_t7(path, obj) -> None:
    with open(path, "wb") as fh:
        _Writer(fh).obj(obj)


def vgg_face_t7(state: dict) -> T7Object:
    """An nn.Sequential laid out like Oxford's VGG_FACE.t7 from a FaceSim3D-layout state dict.

    Convolutions are written as SpatialConvolutionMM with 2-D weights (out, in·3·3), as in the
    original file; ReLU, pooling, View, Dropout and SoftMax modules carry no weights.
    """
    from facesimxai.models.vgg import BLOCKS

    modules = []
    for b, n, _ in BLOCKS:
        for i in range(1, n + 1):
            w = state[f"features.conv_{b}_{i}.weight"].numpy()
            modules.append(T7Object("nn.SpatialConvolutionMM", {
                "weight": w.reshape(w.shape[0], -1), "bias": state[f"features.conv_{b}_{i}.bias"].numpy(),
                "kW": 3, "kH": 3, "nInputPlane": w.shape[1], "nOutputPlane": w.shape[0]}))
            modules.append(T7Object("nn.ReLU", {"inplace": 0}))
        modules.append(T7Object("nn.SpatialMaxPooling", {"kW": 2, "kH": 2}))
    modules.append(T7Object("nn.View", {"size": -1}))
    for name in ("fc6", "fc7", "fc8"):
        modules.append(T7Object("nn.Linear", {"weight": state[f"fc.{name}.weight"].numpy(),
                                              "bias": state[f"fc.{name}.bias"].numpy()}))
        if name != "fc8":
            modules += [T7Object("nn.ReLU", {}), T7Object("nn.Dropout", {"p": 0.5})]
    modules.append(T7Object("nn.SoftMax", {}))
    return T7Object("nn.Sequential", {"modules": modules, "train": 0})
