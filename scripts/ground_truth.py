"""Rule ground_truth → facesimxai.regions.ground_truth.ground_truth_recovery."""

import json
from pathlib import Path

from facesimxai.logs import rule_logging
from facesimxai.models.figures import validity_verdicts
from facesimxai.regions.ground_truth import ground_truth_recovery
from facesimxai.validity.verdicts import explainer_verdicts, validity_name

with rule_logging(snakemake.log[0]):
    read = lambda p: json.loads(Path(p).read_text())  # noqa: E731
    warnings = validity_verdicts(read(snakemake.input.probe), read(snakemake.input.generalisation),
                                 read(snakemake.input.interventional))
    in_use = [validity_name(e) for e in snakemake.params.explainers.values()]
    warnings += explainer_verdicts(snakemake.input.validity, [n for n in in_use if n])
    ground_truth_recovery(
        list(snakemake.input.tables), snakemake.input.observers, snakemake.input.manifest,
        snakemake.input.trials, snakemake.input.maxp_targets, snakemake.params.maxp_rule,
        snakemake.params.cfg, out=snakemake.output.json, figure_out=snakemake.output.figure, warnings=warnings,
    )
