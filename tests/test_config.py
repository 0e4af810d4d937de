"""Config schema: defaults, unknown keys and wrong types name the key."""

import json

import pytest
import yaml
from conftest import ROOT

from facesimxai.config import ConfigError, load_config, validate_config


@pytest.mark.parametrize("name", ["config.yaml", "test.yaml", "fullscale.yaml"])
def test_shipped_configs_are_valid(name):
    cfg = load_config(ROOT / "config" / name)
    assert cfg["faces"]["source"] == "synthetic" and cfg["splits"]["fractions"]["train"] == 0.7


def test_defaults_fill_every_section():
    cfg = validate_config({})
    assert cfg["judgments"]["simulated"]["group_weights"]["eyes"] == 3.0
    assert cfg["pretrain"]["augment"]["scale_range"] == [0.92, 1.08]
    assert cfg["device"] == "auto"


@pytest.mark.parametrize(
    "config, message",
    [
        ({"faces": {"synthetic": {"n_face": 3}}},
         r"unknown config key\(s\) 'n_face' under 'faces.synthetic'"),
        ({"sead": 1}, r"unknown config key\(s\) 'sead' at the top level"),
        ({"faces": {"synthetic": {"n_faces": "ten"}}},
         r"config key 'faces.synthetic.n_faces': 'ten' is not of type 'integer'"),
        ({"faces": {"source": "photos"}}, r"config key 'faces.source': 'photos' is not one of"),
        ({"device": "gpu"}, r"config key 'device'"),
        ({"judgments": {"simulated": {"group_weights": {"eyes": 1}}}},
         r"'judgments.simulated.group_weights': 'mouth' is a required property"),
    ],
)
def test_bad_config_names_the_key(config, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(config)


def test_bad_yaml_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("faces: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_config(bad)
    bad.write_text(yaml.safe_dump({"image_size": 10}))
    with pytest.raises(ConfigError, match=r"bad.yaml: config key 'image_size': 10 is less than the minimum"):
        load_config(bad)


def test_key_order_does_not_matter():
    """Snakemake compares params with their key order: the validated config must be canonical."""
    a = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    b = yaml.safe_load(yaml.safe_dump(a, sort_keys=True))
    b["explain"] = dict(reversed(list(b["explain"].items())))
    assert json.dumps(validate_config(a)) == json.dumps(validate_config(b))


def test_occlusion_settings_on_another_method_are_refused():
    cfg = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    cfg["explain"]["explainers"]["lrp"]["stride"] = 0.1
    with pytest.raises(ConfigError, match="'explain.explainers.lrp.stride': applies to method occlusion only"):
        validate_config(cfg)
    cfg["explain"]["explainers"]["lrp"] = {"method": "occlusion", "stride": 0.1, "patches": [0.25]}
    assert validate_config(cfg)["explain"]["explainers"]["lrp"]["patches"] == [0.25]


def test_decision_explainer_keys_belong_to_their_method():
    """Region Shapley's feather on an LRP explainer would be ignored: refused when written, and
    its default is not added there (a new default must not re-run every LRP store)."""
    cfg = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    cfg["explain"]["explainers"]["lrp"]["feather"] = 0.05
    with pytest.raises(ConfigError, match="'explain.explainers.lrp.feather': applies to method region_shapley only"):
        validate_config(cfg)
    cfg = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    cfg["explain"]["explainers"]["ig"] = {"method": "integrated_gradients", "output": "contrastive"}
    explainers = validate_config(cfg)["explain"]["explainers"]
    assert explainers["shapley"]["feather"] == 0.027 and "n_steps" not in explainers["shapley"]
    assert explainers["ig"]["n_steps"] == 32 and "feather" not in explainers["ig"]
    assert not {"feather", "n_steps", "n_permutations", "baseline"} & set(explainers["lrp"])


SCHEMA_KEYWORDS = {"type", "default", "description", "properties", "additionalProperties", "items", "enum",
                   "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
                   "uniqueItems", "allOf", "anyOf", "oneOf", "contains", "const", "required", "$schema", "title",
                   "patternProperties", "minLength", "pattern", "not", "if", "then", "else", "format",
                   "propertyNames", "minProperties", "maxProperties", "multipleOf", "$ref", "$defs", "definitions"}


def _unknown_keywords(node, path=()):
    """Keys of a schema that are no JSON-schema keyword: in an unquoted YAML flow mapping,
    ``description: a, b`` becomes description "a" plus a junk key "b" that jsonschema ignores."""
    if isinstance(node, list):
        return [bad for i, item in enumerate(node) for bad in _unknown_keywords(item, (*path, str(i)))]
    if not isinstance(node, dict):
        return []
    bad = []
    for key, value in node.items():
        if path and path[-1] in ("properties", "patternProperties", "$defs", "definitions"):
            bad += _unknown_keywords(value, (*path, key))
        elif key not in SCHEMA_KEYWORDS:
            bad.append(".".join((*path, str(key))))
        elif key not in ("default", "const", "enum"):
            bad += _unknown_keywords(value, (*path, key))
    return bad


def test_schema_descriptions_are_whole_and_no_junk_keys_hide_in_it():
    for name in ("config.schema.yaml", "regions.schema.yaml"):
        schema = yaml.safe_load((ROOT / "workflow" / "schemas" / name).read_text())
        assert _unknown_keywords(schema) == [], name
    broken = yaml.safe_load("x: {type: number, description: pixels, for baseline blur}")
    assert _unknown_keywords({"properties": broken}) == ["properties.x.for baseline blur"]
