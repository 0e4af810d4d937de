"""Config loading and JSON-Schema validation with one clear message per problem.

Snakemake's own ``validate`` prints the failing schema fragment and a Python-style instance
path; users need the dotted key and what is wrong with it, so we wrap the same jsonschema
validator and phrase the error ourselves. Defaults from the schema are filled in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from facesimxai.errors import InputError

# Package data, so an installed package finds it (workflow/schemas/ holds a link, the Snakemake convention).
SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "config.schema.yaml"


class ConfigError(InputError):
    """A config value that the schema rejects; the message names the key."""


def _with_defaults(validator_class):
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = _copy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _copy(value):
    return yaml.safe_load(yaml.safe_dump(value))


def _describe(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        where = f"under '{path}'" if error.absolute_path else "at the top level"
        return (f"unknown config key(s) {', '.join(repr(e) for e in extra)} {where}; "
                f"allowed keys: {', '.join(allowed)}")
    return f"config key '{path}': {error.message}"


def load_schema(path: Path | str = SCHEMA_PATH) -> dict:
    with open(path) as fh:
        return yaml.safe_load(fh)


def validate_config(config: dict, schema: Mapping | Path | str = SCHEMA_PATH) -> dict:
    """Validate ``config`` in place (filling defaults) and return it, or raise ConfigError."""
    if not isinstance(schema, Mapping):
        schema = load_schema(schema)
    if not isinstance(config, dict):
        raise ConfigError(f"config must be a mapping of keys to values, got {type(config).__name__}")
    validator_class = jsonschema.validators.validator_for(schema)
    # Check without mutating first, so a bad config reports its own error, not a default's.
    errors = sorted(validator_class(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("; ".join(_describe(e) for e in errors[:5]))
    check_method_keys(config)
    _with_defaults(validator_class)(schema).validate(config)
    drop_foreign_defaults(config)
    sort_keys(config)
    return config


OCCLUSION_KEYS = ("patches", "stride", "blur")
#: explainer key → the methods that read it; any other method would silently ignore it.
METHOD_KEYS = {
    **{key: ("occlusion",) for key in OCCLUSION_KEYS},
    "baseline": ("region_shapley", "integrated_gradients"),
    "n_permutations": ("region_shapley",),
    "feather": ("region_shapley",),
    "n_steps": ("integrated_gradients",),
}


def _explainers(config: dict) -> dict:
    return config.get("explain", {}).get("explainers", {})


def check_method_keys(config: dict) -> None:
    """A key that the explainer's method does not read would be silently ignored: refuse it."""
    for name, explainer in _explainers(config).items():
        for key, methods in METHOD_KEYS.items():
            if key in explainer and explainer.get("method") not in methods:
                raise ConfigError(f"config key 'explain.explainers.{name}.{key}': applies to method "
                                  f"{' / '.join(methods)} only, not {explainer.get('method')}")


def drop_foreign_defaults(config: dict) -> None:
    """Remove the schema's defaults of keys an explainer's method does not read, so that such a
    default neither shows in its settings nor re-runs its heatmap stores when it changes."""
    for explainer in _explainers(config).values():
        for key, methods in METHOD_KEYS.items():
            if explainer.get("method") not in methods:
                explainer.pop(key, None)


def sort_keys(mapping: dict) -> None:
    """Order every mapping's keys alphabetically, in place.

    Snakemake compares a rule's params as they were recorded, key order included: without this,
    moving a key within the YAML (or a tool writing it back sorted) would re-run the whole DAG.
    """
    for value in mapping.values():
        if isinstance(value, dict):
            sort_keys(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    sort_keys(item)
    items = sorted(mapping.items())
    mapping.clear()
    mapping.update(items)


def load_config(path: Path | str, overrides: Mapping[str, Any] | None = None) -> dict:
    """Read a YAML config file, apply overrides and validate it."""
    path = Path(path)
    try:
        with open(path) as fh:
            config = yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    for key, value in (overrides or {}).items():
        config[key] = value
    try:
        return validate_config(config)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
