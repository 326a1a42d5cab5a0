"""``copilot eval``: run suites under configurations, cache every item, gate on the figures.

One run = suites × configurations (retrieval: search modes; the others: LLM backends) on
the bundled development sets or a given file. Each item's result is cached in the report
folder under a hash of the case and the configuration, so a run that stops resumes, and the
figures are written as JSON, Markdown and HTML (``evals.report``). Orders that the
disposition suite files go to a scratch database, never to the real one.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from evals.cache import ItemCache, item_key
from evals.datasets import DATASETS_DIR
from evals.external import CsvSource, load_csv_cases
from evals.results import GateResult, RunReport, SuiteResult
from evals.suites import BACKEND_SUITES, SUITES

ALL = ("retrieval", "answer", "routing", "disposition")
SEED = 20261130
# (suite, config, done, total, from_cache)
RunProgress = Callable[[str, str, int, int, bool], None]
_GATE = re.compile(r"^(?P<suite>[a-z]+)(?:\[(?P<config>[^\]]+)\])?\.(?P<metric>[\w@]+)$")


class EvalError(ValueError):
    """A request the runner cannot carry out; the message says why (for the command line)."""


class Gate(BaseModel):
    suite: str
    config: str | None = None
    metric: str
    threshold: float


class EvalRequest(BaseModel):
    suites: list[str]
    datasets: list[Path] = Field(
        default_factory=list, description="Files for a single suite (the bundled sets if none)."
    )
    csv: CsvSource | None = Field(default=None, description="Columns of a routing CSV.")
    configs: list[str] | None = Field(default=None, description="Retrieval configurations.")
    backends: list[str] = Field(default_factory=lambda: ["none"])
    report_dir: Path | None = None
    gates: list[Gate] = Field(default_factory=list)
    limit: int | None = Field(default=None, ge=1, description="First N cases of each file.")
    resume: bool = True


def parse_gate(text: str) -> Gate:
    """``retrieval.hit_at_5=0.8`` or ``retrieval[hybrid].mrr=0.6`` → a gate."""
    name, sep, value = text.partition("=")
    m = _GATE.match(name.strip())
    if not sep or m is None or m["suite"] not in SUITES:
        raise EvalError(
            f"--fail-under {text!r}: expected SUITE.METRIC=VALUE or SUITE[CONFIG].METRIC=VALUE, e.g. routing.board_accuracy=0.9"
        )
    try:
        threshold = float(value)
    except ValueError:
        raise EvalError(f"--fail-under {text!r}: {value!r} is not a number") from None
    return Gate(suite=m["suite"], config=m["config"], metric=m["metric"], threshold=threshold)


def expand_suites(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        for s in ALL if name == "all" else (name,):
            if s not in SUITES:
                raise EvalError(f"unknown suite {s!r}; one of: {', '.join(ALL)}, all")
            if s not in out:
                out.append(s)
    return out


def run_eval(request: EvalRequest, settings, progress: RunProgress | None = None) -> RunReport:
    """Run the request; the report is returned (and written when a folder is given)."""
    random.seed(SEED)
    try:
        import numpy as np

        np.random.seed(SEED % 2**32)
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    suites = expand_suites(request.suites)
    if request.datasets and len(suites) != 1:
        raise EvalError("--dataset needs exactly one suite")
    started = time.perf_counter()
    cache = ItemCache(request.report_dir / "cache" if request.report_dir else None)
    if not request.resume:
        cache.clear()
    results: list[SuiteResult] = []
    with tempfile.TemporaryDirectory(prefix="copilot-eval-") as scratch:
        opened: dict[str, object] = {}
        try:
            for name in suites:
                suite = SUITES[name]
                cases, dataset, notes = _cases(name, request)
                for config, backend in _plan(name, request):
                    services = opened.get(backend) or _services(settings, backend, Path(scratch))
                    opened[backend] = services
                    fingerprint = _fingerprint(services)
                    result = _run_one(
                        suite, services, cases, dataset, config, cache, fingerprint, progress
                    )
                    result.notes += notes
                    results.append(result)
        finally:
            for services in opened.values():
                services.close()  # type: ignore[attr-defined]
            cache.close()
    report = RunReport(
        created_at=datetime.now(UTC),
        command=_describe(request),
        suites=results,
        gates=[_check(g, results) for g in request.gates],
        seconds=round(time.perf_counter() - started, 1),
        machine=_machine(),
    )
    if request.report_dir is not None:
        from evals.report import write_reports

        write_reports(report, request.report_dir)
    return report


def _run_one(suite, services, cases, dataset, config, cache, fingerprint, progress) -> SuiteResult:
    started = time.perf_counter()
    items, cached = [], 0
    for done, case in enumerate(cases, 1):
        key = item_key(suite.name, config, case, fingerprint)
        item = cache.get(key)
        hit = item is not None
        if item is None:
            item = suite.score(services, case, config)
            cache.put(key, item)
        cached += hit
        items.append(item)
        if progress:
            progress(suite.name, config, done, len(cases), hit)
    result = suite.summarise(items, config, dataset)
    result.cached_items = cached
    result.seconds = round(time.perf_counter() - started, 1)
    return result


def _cases(name: str, request: EvalRequest) -> tuple[list[dict], str, list[str]]:
    """The cases (``--limit``: the first N of each file), the dataset's name, and notes on
    rows left out."""
    suite = SUITES[name]
    paths = request.datasets or [DATASETS_DIR / d for d in suite.default_datasets]
    cases: list[dict] = []
    notes: list[str] = []
    for path in paths:
        if not path.is_file():
            raise EvalError(f"no dataset file {path}")
        if path.suffix.lower() == ".csv":
            if name != "routing" or request.csv is None:
                raise EvalError(
                    "a CSV dataset is for routing, with --text-column, --label-column "
                    "and --label-map"
                )
            loaded, unmapped = load_csv_cases(path, request.csv)
            if unmapped:
                notes.append(f"{path.name}: {unmapped} rows left out (label not in the map).")
        else:
            loaded = suite.load(path)
        cases += loaded[: request.limit] if request.limit else loaded
    dataset = "+".join(p.name for p in paths)
    if not cases:
        raise EvalError(f"{dataset}: no cases")
    return cases, dataset, notes


def _plan(name: str, request: EvalRequest) -> list[tuple[str, str]]:
    """(config, backend) pairs: retrieval varies the search, the others the LLM backend."""
    suite = SUITES[name]
    if name in BACKEND_SUITES:
        unknown = [b for b in request.backends if b not in suite.configs]
        if unknown:
            raise EvalError(f"unknown backend(s) {unknown}; one of {', '.join(suite.configs)}")
        return [(b, b) for b in request.backends]
    configs = request.configs or list(suite.default_configs)
    unknown = [c for c in configs if c not in suite.configs]
    if unknown:
        raise EvalError(
            f"unknown {name} configuration(s) {unknown}; one of {', '.join(suite.configs)}"
        )
    return [(c, "none") for c in configs]


def _services(settings, backend: str, scratch: Path):
    """Services for one backend over the same index, with a scratch order database."""
    from copilot.services import build_services

    db = scratch / f"orders-{backend}.db"
    overrides = {"database_url": f"sqlite:///{db}", "checkpoint_url": None}
    if backend != "none":
        overrides["llm_backend"] = backend
    s = settings.model_copy(update=overrides)
    try:
        services = build_services(s, with_llm=backend != "none")
    except Exception as exc:  # a broken backend setting: say which and why
        raise EvalError(f"cannot run under backend {backend!r}: {exc}") from exc
    services.ensure_ready()
    return services


def _fingerprint(services) -> str:
    """What changes results besides the case: the settings (no paths or secrets) and the index."""
    s = services.settings
    keep = s.model_dump(
        mode="json",
        exclude={
            "home",
            "data_dir",
            "database_url",
            "checkpoint_url",
            "llm_api_key",
            "redis_url",
            "wecom_token",
            "wecom_aes_key",
            "wecom_secret",
            "webhook_secret",
        },
    )
    docs = sorted((d.doc_id, d.content_hash) for d in services.documents())
    blob = json.dumps(
        [keep, docs, _code_and_data()], ensure_ascii=False, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _code_and_data() -> list[tuple[str, int, int]]:
    """Size and modification time of the code, prompts and data that shape results (the
    catalogue, lexicons, trained models): an upgrade scores every item afresh."""
    from copilot.settings import BUNDLED_DATA_DIR, REPO_ROOT

    roots = [REPO_ROOT / d for d in ("copilot", "retrievers", "tools", "prompts", "evals")]
    roots += [BUNDLED_DATA_DIR / d for d in ("catalogue", "lexicon", "models", "gazetteer")]
    out = []
    for root in roots:
        for path in sorted(root.rglob("*")) if root.is_dir() else []:
            if (
                path.is_file()
                and path.suffix not in (".pyc", ".sqlite")
                and "datasets" not in path.parts
            ):
                st = path.stat()
                out.append((str(path.relative_to(REPO_ROOT)), st.st_size, st.st_mtime_ns))
    return out


def _check(gate: Gate, results: list[SuiteResult]) -> GateResult:
    """A gate holds when every run of its suite (or of the named configuration) reaches it."""
    runs = [r for r in results if r.suite == gate.suite and gate.config in (None, r.config)]
    label = f"{gate.suite}{f'[{gate.config}]' if gate.config else ''}.{gate.metric}"
    values = [r.metrics.get(gate.metric) for r in runs]
    if not runs or any(v is None for v in values):
        return GateResult(metric=label, threshold=gate.threshold, value=None, passed=False)
    worst = min(v for v in values if v is not None)
    return GateResult(
        metric=label, threshold=gate.threshold, value=worst, passed=worst >= gate.threshold
    )


def _describe(request: EvalRequest) -> str:
    parts = ["copilot eval", *request.suites]
    for path in request.datasets:
        parts += ["--dataset", str(path)]
    if request.configs:
        parts += ["--configs", ",".join(request.configs)]
    parts += ["--backends", ",".join(request.backends)]
    if request.limit:
        parts += ["--limit", str(request.limit)]
    if request.csv is not None:
        for column in request.csv.text_columns:
            parts += ["--text-column", column]
        parts += [
            "--label-column",
            request.csv.label_column,
            "--label-map",
            str(request.csv.label_map),
        ]
        if request.csv.id_column:
            parts += ["--id-column", request.csv.id_column]
    for g in request.gates:
        parts += [
            "--fail-under",
            f"{g.suite}{f'[{g.config}]' if g.config else ''}.{g.metric}={g.threshold:g}",
        ]
    return " ".join(parts)


def _machine() -> dict:
    import os
    import platform

    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
