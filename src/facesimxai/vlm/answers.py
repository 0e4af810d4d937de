"""What a VLM must answer (JSON schemas, used for constrained decoding where the backend can) and
the parser that turns raw text into fields, validity and the reason when invalid.

The thesis dropped unparseable answers, which misaligned its rows; here every answer keeps its
row, and an invalid one says why.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema

MAX_REGIONS = 3
FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


def region_label(name: str) -> str:
    """How a region is written in prompts and answers: `left_eye` → `left eye`."""
    return name.replace("_", " ")


def odd_one_out_schema(regions: list[str]) -> dict:
    """{"odd_one_out": 1–3, "regions": up to 3 distinct region labels of the odd face}."""
    return {
        "type": "object",
        "properties": {
            "odd_one_out": {"type": "integer", "enum": [1, 2, 3]},
            "regions": {"type": "array", "items": {"type": "string", "enum": [region_label(r) for r in regions]},
                        "maxItems": MAX_REGIONS, "uniqueItems": True},
        },
        "required": ["odd_one_out", "regions"],
        "additionalProperties": False,
    }


def heatmap_schema(regions: list[str]) -> dict:
    """{"regions": 1–3 distinct region labels, most relevant first}."""
    return {
        "type": "object",
        "properties": {
            "regions": {"type": "array", "items": {"type": "string", "enum": [region_label(r) for r in regions]},
                        "minItems": 1, "maxItems": MAX_REGIONS, "uniqueItems": True},
        },
        "required": ["regions"],
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class ParsedAnswer:
    """`fields` holds the answer's JSON object when `valid`; `reason` says what was wrong otherwise."""

    valid: bool
    fields: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    repaired: bool = False


def parse_answer(text: str | None, schema: dict) -> ParsedAnswer:
    """Parse one raw answer against its schema; never raises on bad text."""
    if text is None:
        return ParsedAnswer(False, reason="no answer (request failed)")
    body = text.strip()
    if not body:
        return ParsedAnswer(False, reason="empty answer")
    fenced = FENCE.match(body)  # chat models often wrap JSON in a Markdown code fence
    if fenced:
        body = fenced.group(1)
    try:
        obj = json.loads(body)
    except json.JSONDecodeError as exc:
        return ParsedAnswer(False, reason=f"not JSON: {exc.msg} at character {exc.pos}")
    repaired = False
    regions = obj.get("regions") if isinstance(obj, dict) else None
    if isinstance(regions, list) and all(isinstance(r, str) for r in regions) and len(set(regions)) < len(regions):
        # grammar engines cannot enforce uniqueItems; a repeated region is a slip, not a wrong answer
        obj["regions"], repaired = list(dict.fromkeys(regions)), True
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(obj), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = ".".join(map(str, err.absolute_path)) or "answer"
        return ParsedAnswer(False, fields=obj if isinstance(obj, dict) else {},
                            reason=f"schema: {where}: {err.message}")
    return ParsedAnswer(True, fields=obj, repaired=repaired)


def region_names(labels: list[str], regions: list[str]) -> list[str]:
    """Region labels of a valid answer back to the pipeline's region names, in answer order."""
    by_label = {region_label(r): r for r in regions}
    return [by_label[label] for label in labels]
