"""LRP rules assigned to modules **by name**, so the assignment is explicit and testable.

zennit's ``SpecialFirstLayerMapComposite`` gives the first-layer rule to the first Linear/Conv in
``named_modules()`` registration order; in FaceSim3D's class the bridge is registered before the
core, so "Flat" landed on the bridge and the input convolution got AlphaBeta (a defect of the
thesis's original code). Here the input convolution is found by its name, ``core.conv_1_1``, and every other
module gets the rule its type calls for in the preset. ``rule_table`` shows the result.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from zennit.composites import NameMapComposite
from zennit.core import Hook
from zennit.rules import AlphaBeta, Epsilon, Flat, Gamma, Pass, ZBox, ZPlus

#: Name of the input convolution in every model we explain (TripletModel and its parts).
FIRST_LAYER = "core.conv_1_1"
#: The decision block's convolutions act as small dense layers over the stacked embedding pairs.
#: By default they get the epsilon rule, as upper layers should (Montavon et al. 2019): with only
#: 1-2 channels, z+/alpha-beta lose relevance whenever a unit has no positive (or negative)
#: contributions. ``decision_rule="conv"`` gives them the preset's convolution rule instead, as
#: the thesis's type-based composite did.
DECISION_PREFIX = "head.decision."

LRP_PRESETS = ("epsilon_plus_flat", "epsilon_alpha2_beta1_flat", "epsilon_gamma_box")
GRADIENT_METHODS = ("gradient", "gradient_x_input")
METHODS = LRP_PRESETS + GRADIENT_METHODS


def _rule_factories(preset: str, low, high, epsilon: float, gamma: float,
                    zero_params: list[str] | None, decision_rule: str) -> dict[str, Callable[[], Hook]]:
    """Rule constructors for the roles first / conv / linear / activation of one preset."""
    zp = {"zero_params": zero_params}
    conv = {
        "epsilon_plus_flat": lambda: ZPlus(**zp),
        "epsilon_alpha2_beta1_flat": lambda: AlphaBeta(alpha=2.0, beta=1.0, **zp),
        "epsilon_gamma_box": lambda: Gamma(gamma=gamma, **zp),
    }[preset]
    first = (lambda: ZBox(low=low, high=high, **zp)) if preset == "epsilon_gamma_box" else (lambda: Flat(**zp))
    linear = lambda: Epsilon(epsilon=epsilon, **zp)  # noqa: E731
    return {"first": first, "conv": conv, "linear": linear, "activation": Pass,
            "decision": linear if decision_rule == "epsilon" else conv}


def _role(name: str, module: nn.Module) -> str | None:
    if name == FIRST_LAYER or name.endswith("." + FIRST_LAYER):
        return "first"
    if isinstance(module, nn.Conv2d) and name.startswith(DECISION_PREFIX):
        return "decision"
    if isinstance(module, nn.Conv2d):
        return "conv"
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, nn.ReLU):
        return "activation"
    return None  # max-pooling, dropout (eval), flatten, containers: plain gradient


def assign_rules(model: nn.Module, preset: str, low=None, high=None, epsilon: float = 1e-6,
                 gamma: float = 0.25, zero_params: list[str] | None = ("bias",),
                 decision_rule: str = "epsilon", require_first: bool = True) -> dict[str, Hook]:
    """Module name → a fresh zennit rule, for every module that gets one.

    ``require_first=False`` is for explaining a part of the model without the input layer
    (the decision block alone in the factorised engine).
    """
    if preset not in LRP_PRESETS:
        raise ValueError(f"unknown LRP preset {preset!r}; presets: {', '.join(LRP_PRESETS)}")
    if preset == "epsilon_gamma_box" and (low is None or high is None):
        raise ValueError("epsilon_gamma_box needs the input bounds low/high (from the preprocessing)")
    if decision_rule not in ("epsilon", "conv"):
        raise ValueError(f"decision_rule {decision_rule!r} is not one of epsilon, conv")
    factories = _rule_factories(preset, low, high, epsilon, gamma,
                                list(zero_params) if zero_params else None, decision_rule)
    mapping = {}
    for name, module in model.named_modules():
        role = _role(name, module)
        if role:
            mapping[name] = factories[role]()
    if require_first and not any(_role(n, m) == "first" for n, m in model.named_modules()):
        raise ValueError(f"model has no input convolution named {FIRST_LAYER!r}")
    return mapping


def describe(rule: Hook) -> str:
    return type(rule).__name__


def rule_table(model: nn.Module, preset: str, **kwargs) -> dict[str, str]:
    """Which rule each module receives, as readable names (for tests, logs and store attributes)."""
    if preset in GRADIENT_METHODS:
        return {}
    kwargs.setdefault("low", torch.zeros(1, 3, 1, 1))
    kwargs.setdefault("high", torch.ones(1, 3, 1, 1))
    return {name: describe(rule) for name, rule in assign_rules(model, preset, **kwargs).items()}


def make_composite(model: nn.Module, preset: str, **kwargs) -> NameMapComposite | None:
    """A zennit composite for an LRP preset; ``None`` for the gradient baselines."""
    if preset in GRADIENT_METHODS:
        return None
    rules = assign_rules(model, preset, **kwargs)
    return NameMapComposite([((name,), rule) for name, rule in rules.items()])


def input_bounds(preprocessing: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Lowest and highest model-input values per channel, for the ZBox rule."""
    from facesimxai.models.vgg import FACESIM3D_MEAN

    if preprocessing == "facesim3d":
        mean = torch.tensor(FACESIM3D_MEAN).view(1, 3, 1, 1)
        return -mean, 255.0 - mean
    return torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1)
