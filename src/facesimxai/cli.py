"""`facesimxai` command line: look at one decision from a finished run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

COLUMNS = ["model", "explainer", "trial_id", "split", "pred_pos", "human_odd", "confidence", "softmax_conf",
           "towards", "against"]


def explain_trial(trial_id: int, results: Path, model: str | None = None) -> str:
    """The explanation-table rows and sentences of one trial, as printed by `explain-trial`."""
    path = results / "explanations" / "trials.parquet"
    if not path.exists():
        raise SystemExit(f"error: {path} does not exist; run the pipeline first (snakemake --cores N)")
    table = pd.read_parquet(path)
    rows = table[(table["trial_id"] == trial_id) & ((table["model"] == model) if model else True)]
    if rows.empty:
        known = table["trial_id"].drop_duplicates().sort_values()
        raise SystemExit(f"error: trial {trial_id} is not in {path} ({len(known)} explained trials, ids "
                         f"{known.iat[0]}–{known.iat[-1]}; the demo explains the test split only)")
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        shown = rows[COLUMNS].rename(columns={"pred_pos": "chose", "human_odd": "human"})
        shown[["chose", "human"]] += 1  # positions as people count them
        lines = [shown.to_string(index=False), ""]
    lines += [f"- {s}" for s in rows["sentence"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="facesimxai", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("explain-trial", help="print one trial's explanation table and sentences")
    p.add_argument("trial_id", type=int)
    p.add_argument("--results", type=Path, default=Path("results"), help="results directory of the run")
    p.add_argument("--model", choices=["hum", "maxp"], help="only this model")
    args = parser.parse_args(argv)
    if args.command == "explain-trial":
        print(explain_trial(args.trial_id, args.results, args.model))


if __name__ == "__main__":
    main(sys.argv[1:])
