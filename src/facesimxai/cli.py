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


def pair_rows(pair_id: int, results: Path) -> tuple[pd.Series, pd.DataFrame, str | None]:
    """One pair's decision, region table and sentence; a clear exit when they are missing."""
    folder = results / "verification"
    paths = [folder / f for f in ("scores.parquet", "regions.parquet", "sentences.parquet")]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise SystemExit(f"error: {', '.join(missing)} missing; run the pipeline with verification enabled first")
    scores, regions, sentences = (pd.read_parquet(p) for p in paths)
    explained = sorted(sentences["pair_id"])
    if pair_id not in explained:
        raise SystemExit(f"error: pair {pair_id} has no region table in {paths[2]} (explained pairs: "
                         f"{', '.join(map(str, explained))}; raise verification.xmaps.n_pairs for more)")
    sentence = sentences.set_index("pair_id").loc[pair_id]
    if sentence["sentence"] is None:
        raise SystemExit(f"error: pair {pair_id} was not explained: {sentence['reason']}")
    return scores[scores["pair_id"] == pair_id].iloc[0], regions[regions["pair_id"] == pair_id], sentence["sentence"]


def explain_pair(pair_id: int, results: Path) -> str:
    """The decision, the region table (techniques × regions) and the sentence of one pair."""
    pair, regions, sentence = pair_rows(pair_id, results)
    table = regions.pivot(index="region", columns="technique", values="importance")
    table = table.sort_values("average", ascending=False)
    with pd.option_context("display.width", 160, "display.float_format", "{:+.4f}".format):
        kind = "genuine" if pair["genuine"] else "impostor"
        lines = [f"pair {pair_id}: {kind}, similarity {pair['similarity']:.3f}, "
                 f"threshold {pair['threshold']:.3f}, {'accepted' if pair['accepted'] else 'rejected'} "
                 f"({'correct' if pair['correct'] else 'wrong'}), C-Score {pair['c_score']:.2f}", "",
                 table.to_string(), "", f"- {sentence}"]
    return "\n".join(lines)


def ask_pair(pair_id: int, question: str, results: Path, config: Path) -> str:
    from facesimxai.explanations.questions import ask_recorded
    from facesimxai.verification.questions import pair_question_request

    cfg = _vlm_config(config, results)
    pair, regions, _ = pair_rows(pair_id, results)
    record = ask_recorded(pair_question_request(pair, regions, question), question, cfg,
                          results / "verification" / "questions.parquet")
    return _answer_text(question, record)


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
    q = sub.add_parser("explain-pair", help="print one verification pair's decision, region table and sentence")
    q.add_argument("pair_id", type=int)
    q.add_argument("--results", type=Path, default=Path("results"), help="results directory of the run")
    q.add_argument("--ask", metavar="QUESTION",
                   help="also ask the configured VLM/LLM backend a question about the pair, answered from its "
                        "tables only; recorded in verification/questions.parquet")
    q.add_argument("--config", type=Path, default=Path("config/config.yaml"), help="config whose vlm block is used")
    args = parser.parse_args(argv)
    if args.command == "explain-trial":
        print(explain_trial(args.trial_id, args.results, args.model))
        if args.ask:
            print("\n" + ask(args.trial_id, args.ask, args.results, args.config, args.model))
    elif args.command == "explain-pair":
        print(explain_pair(args.pair_id, args.results))
        if args.ask:
            print("\n" + ask_pair(args.pair_id, args.ask, args.results, args.config))


def ask(trial_id: int, question: str, results: Path, config: Path, model: str | None = None) -> str:
    from facesimxai.explanations.questions import ask_about_trial

    cfg = _vlm_config(config, results)
    record = ask_about_trial(trial_rows(trial_id, results, model), question, cfg,
                             results / "explanations" / "questions.parquet")
    return _answer_text(question, record)


def _vlm_config(config: Path, results: Path) -> dict:
    from facesimxai.config import load_config

    cfg = load_config(config)["vlm"]
    if cfg["backend"] == "none":
        raise SystemExit(f"error: config key vlm.backend is none in {config}; set a backend to ask questions")
    if cfg["model"] == "builtin:tiny-random-qwen2-vl":
        cfg["model"] = str(results / "vlm" / "tiny_model")
    return cfg


def _answer_text(question: str, record: dict) -> str:
    if record["answer"] is None:
        return f"Q: {question}\nno valid answer ({record['invalid_reason']}); raw text: {record['raw_text']!r}"
    return f"Q: {question}\nA ({record['vlm_model']}, from the table only): {record['answer']}"


if __name__ == "__main__":
    main(sys.argv[1:])
