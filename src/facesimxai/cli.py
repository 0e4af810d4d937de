"""`facesimxai` command line: look at one decision from a finished run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from facesimxai.vocabulary import MODELS

COLUMNS = ["model", "explainer", "trial_id", "split", "pred_pos", "human_odd", "confidence", "softmax_conf",
           "towards", "against"]


def trial_rows(trial_id: int, results: Path, model: str | None = None) -> pd.DataFrame:
    """One trial's rows of the explanation table; a clear exit when the run or the trial is missing."""
    path = results / "explanations" / "trials.parquet"
    if not path.exists():
        raise SystemExit(f"error: {path} does not exist; run the pipeline first (snakemake --cores N)")
    table = pd.read_parquet(path)
    rows = table[(table["trial_id"] == trial_id) & ((table["model"] == model) if model else True)]
    if rows.empty:
        known = table["trial_id"].drop_duplicates().sort_values()
        raise SystemExit(f"error: trial {trial_id} is not in {path} ({len(known)} explained trials, ids "
                         f"{known.iat[0]}–{known.iat[-1]}; the demo explains the test split only)")
    return rows


def explain_trial(trial_id: int, results: Path, model: str | None = None) -> str:
    """The explanation-table rows and sentences of one trial, as printed by `explain-trial`."""
    rows = trial_rows(trial_id, results, model)
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
    p.add_argument("--model", choices=list(MODELS), help="only this model")
    p.add_argument("--ask", metavar="QUESTION",
                   help="also ask the configured VLM/LLM backend (config key vlm) a question about the trial, "
                        "answered from its table only; recorded in explanations/questions.parquet")
    p.add_argument("--config", type=Path, default=Path("config/config.yaml"), help="config whose vlm block is used")
    args = parser.parse_args(argv)
    if args.command == "explain-trial":
        print(explain_trial(args.trial_id, args.results, args.model))
        if args.ask:
            print("\n" + ask(args.trial_id, args.ask, args.results, args.config, args.model))


def ask(trial_id: int, question: str, results: Path, config: Path, model: str | None = None) -> str:
    from facesimxai.config import load_config
    from facesimxai.explanations.questions import ask_about_trial

    cfg = load_config(config)["vlm"]
    if cfg["backend"] == "none":
        raise SystemExit(f"error: config key vlm.backend is none in {config}; set a backend to ask questions")
    if cfg["model"] == "builtin:tiny-random-qwen2-vl":
        cfg["model"] = str(results / "vlm" / "tiny_model")
    record = ask_about_trial(trial_rows(trial_id, results, model), question, cfg,
                             results / "explanations" / "questions.parquet")
    if record["answer"] is None:
        return f"Q: {question}\nno valid answer ({record['invalid_reason']}); raw text: {record['raw_text']!r}"
    return f"Q: {question}\nA ({record['vlm_model']}, from the table only): {record['answer']}"


if __name__ == "__main__":
    main(sys.argv[1:])
