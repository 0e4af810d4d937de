"""Deterministic plain-language explanation of one decision, from its explanation-table row.

A template, not a language model: every number in the sentence is in the row, and the same row
always gives the same words.
"""

from __future__ import annotations

import json
import math

from facesimxai.vocabulary import MODEL_NAMES


def _percent(share: float) -> str:
    """Signed percent with one decimal; two significant digits below 0.1% so no share reads '+0.0%'."""
    pct = 100 * share
    return f"{pct:+.1f}%" if abs(pct) >= 0.1 else f"{pct:+.2g}%"


def _regions(pairs: list) -> str:
    parts = [f"the {region.replace('_', ' ')} ({_percent(share)})" for region, share in pairs]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def sentence(row: dict) -> str:
    """E.g. 'VGG-Hum chose face 2 as the odd one out, with a calibrated confidence of 64% …'."""
    name = MODEL_NAMES.get(row["model"], row["model"])
    chosen = row["pred_pos"] + 1
    conf = row.get("confidence")
    if conf is not None and not (isinstance(conf, float) and math.isnan(conf)):
        sure = f"with a calibrated confidence of {100 * conf:.0f}% (softmax {100 * row['softmax_conf']:.0f}%)"
    else:
        sure = f"with a softmax probability of {100 * row['softmax_conf']:.0f}% (no calibrated confidence)"
    text = [f"{name} chose face {chosen} as the odd one out, {sure}."]
    towards = json.loads(row["towards"]) if isinstance(row["towards"], str) else row["towards"]
    against = json.loads(row["against"]) if isinstance(row["against"], str) else row["against"]
    face = f"face {row['target_pos'] + 1}"
    if row["target_pos"] != row["pred_pos"]:
        face += " (the face explained, not the one chosen)"
    if towards and against:
        text.append(f"On {face}, {_regions(towards)} pushed towards this output; "
                    f"{_regions(against)} pushed against it.")
    elif towards:
        text.append(f"On {face}, {_regions(towards)} pushed towards this output; no region pushed against it.")
    elif against:
        text.append(f"On {face}, no region pushed towards this output; {_regions(against)} pushed against it.")
    else:
        text.append(f"No region of {face} carried relevance.")
    if row["human_odd"] == row["pred_pos"]:
        text.append(f"The human also chose face {chosen}.")
    else:
        text.append(f"The human chose face {row['human_odd'] + 1} instead.")
    return " ".join(text)
