"""The scale-out backend: the same compiled rules on Spark SQL (``--engine spark``).

Why a second engine at all: DuckDB runs on one machine, while an org-wide
audit of years of events may live in a data lake next to a Spark cluster. The
rules do not change for it: every plan is a sqlglot tree that
``engine.lang.portable`` has already checked to mean the same in Spark SQL
3.5, so this module only loads the events, renders each tree with
``dialect="spark"``, materialises the stages and turns Spark's rows into the
plain Python rows the DuckDB backend returns, so ``engine.report.build``
makes byte-identical findings from either.

PySpark is optional (``pip install 'salesmirror[spark]'``) and imported only
when a Spark backend is made, so ``import engine`` never needs it or Java.

Where it runs, in the usual Spark ways: ``SPARK_REMOTE`` (or ``spark.remote``)
selects Spark Connect; ``SPARK_MASTER`` (or a ``spark.master`` given through
``PYSPARK_SUBMIT_ARGS`` or ``spark-submit``) selects a cluster; otherwise
``local[*]``. The session time zone is always UTC and ANSI mode off (the
semantics the plans were checked against); timestamps are naive
(``TIMESTAMP_NTZ``), as in DuckDB.

Each backend gets its own Spark session over the one shared context (the
JVM starts once per process), so two logs evaluated one after the other, or
side by side, never see each other's temporary views.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from engine.backends.base import Origin, RuleResult
from engine.errors import EngineError, Problem
from engine.ingest import EVENT_SCHEMA
from engine.ingest.store import EventStore
from engine.lang.counter import FOUND
from engine.lang.derive import plan_notes
from engine.lang.plan import CompiledRule
from engine.lang.setup import (
    INFER_ABSENCE_DAYS,
    OUTLIERS,
    OUTLIERS_LISTED,
    SETUP_SCRATCH,
    outlier_warnings,
    setup_plan,
)
from engine.lang.sqlplan import EVENTS, RAW, SCOPES_MANAGER, SPAN

WHERE = "--engine spark"  # the "file" of an engine problem: what the user chose
INSTALL_HINT = "pip install 'salesmirror[spark]'"
ORIGIN_CHUNK = 5_000  # ids per IN list when looking up evidence origins

# Spark's (Arrow-free) type names for the events table, in EVENT_SCHEMA's order.
_SPARK_TYPES = {
    pa.int64(): "BIGINT",
    pa.string(): "STRING",
    pa.timestamp("us"): "TIMESTAMP_NTZ",
}

# Settings the plans' meaning depends on: never left to a cluster's defaults.
FIXED_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",  # NULL, as in DuckDB, for a failed cast or a division by zero
    # A timestamp read from Parquet without a zone stays naive (TIMESTAMP_NTZ), as DuckDB reads it.
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    # Spark 3.5.9 fails to resolve some rule plans over the checkpointed stages with adaptive
    # execution off ("`q`.`manager` cannot be resolved. Did you mean `q`.`manager`"; found by the
    # fixture differential); with it on (Spark's default) they run, so it is not left to a cluster.
    "spark.sql.adaptive.enabled": "true",
}

# Quiet, self-contained local defaults (a cluster's own configuration wins where it sets them).
LOCAL_CONF = {
    "spark.ui.showConsoleProgress": "false",  # the library never prints; Spark's bar goes to stderr
    "spark.ui.enabled": "false",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
}

_SESSION_LOCK = threading.Lock()
_ROOT: list[Any] = []  # the process's one classic SparkSession (the context's), made on first use


def _schema_ddl() -> str:
    return ", ".join(f"`{f.name}` {_SPARK_TYPES[f.type]}" for f in EVENT_SCHEMA)


def _problem(message: str) -> EngineError:
    return EngineError([Problem(WHERE, 0, 0, message)])


def _import_pyspark() -> Any:
    """The pyspark.sql module, or a clear error saying how to get it."""
    try:
        import pyspark.sql
    except ImportError as exc:
        raise _problem(f"the Spark engine needs PySpark ({exc}); install it with {INSTALL_HINT}") from None
    return pyspark.sql


def _remote() -> str | None:
    return os.environ.get("SPARK_REMOTE") or None


def _master() -> str | None:
    """The master to ask for; None when spark-submit (or PYSPARK_SUBMIT_ARGS) already gives one."""
    if os.environ.get("SPARK_MASTER"):
        return os.environ["SPARK_MASTER"]
    if "PYSPARK_GATEWAY_PORT" in os.environ or "--master" in os.environ.get("PYSPARK_SUBMIT_ARGS", ""):
        return None
    return "local[*]"


def _check_java() -> None:
    """A classic session starts a JVM: say so plainly when there is none to start."""
    if "PYSPARK_GATEWAY_PORT" in os.environ:  # launched by spark-submit: the JVM is already up
        return
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.path.exists(os.path.join(java_home, "bin", "java")):
        return
    if shutil.which("java") is None:
        raise _problem(
            "the Spark engine needs Java 17 (or 11/8) to start Spark locally: none found on PATH or in JAVA_HOME; "
            "install a JDK, or use a Spark Connect server through SPARK_REMOTE"
        )


def _log4j_file() -> str:
    """A log4j2 configuration that keeps Spark's start-up chatter (warnings) off stderr."""
    path = os.path.join(tempfile.gettempdir(), "salesmirror-spark-log4j2.properties")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as out:
            out.write(
                "rootLogger.level = error\nrootLogger.appenderRef.stderr.ref = console\n"
                "appender.console.type = Console\nappender.console.name = console\n"
                "appender.console.target = SYSTEM_ERR\nappender.console.layout.type = PatternLayout\n"
                "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n\n"
            )
    return path


def _root_session(conf: dict[str, str]) -> Any:
    """The process's classic session (made once: one JVM, one SparkContext per process)."""
    sql = _import_pyspark()
    with _SESSION_LOCK:
        if _ROOT:
            return _ROOT[0]
        _check_java()
        builder = sql.SparkSession.builder.appName("salesmirror")
        master = _master()
        local = master is not None and master.startswith("local")
        if master:
            builder = builder.master(master)
        settings = dict(LOCAL_CONF) if local else {}
        if local:
            settings["spark.driver.extraJavaOptions"] += f" -Dlog4j.configurationFile=file:{_log4j_file()}"
            settings["spark.sql.warehouse.dir"] = tempfile.mkdtemp(prefix="salesmirror-spark-warehouse-")
            # small logs dominate local use: a few shuffle partitions, merged further by AQE
            settings["spark.sql.shuffle.partitions"] = str(max(2, 2 * (os.cpu_count() or 1)))
        settings.update(conf)
        settings.update(FIXED_CONF)
        for key, value in settings.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # the JVM did not start (Java too old or missing, ports, memory)
            raise _problem(f"Spark could not start: {_first_line(exc)}") from None
        session.sparkContext.setLogLevel("ERROR")
        _ROOT.append(session)
        return session


def _connect_session(remote: str, conf: dict[str, str]) -> Any:
    """A fresh Spark Connect session (its own temporary views) on the server ``remote`` names."""
    sql = _import_pyspark()
    builder = sql.SparkSession.builder.remote(remote)
    for key, value in {**conf, **FIXED_CONF}.items():
        builder = builder.config(key, value)
    try:
        return builder.create()
    except ImportError as exc:
        raise _problem(f"Spark Connect needs pyspark[connect] ({exc}); install it with {INSTALL_HINT}") from None
    except Exception as exc:
        raise _problem(f"could not reach Spark Connect at {remote}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]


def render(tree: exp.Expr) -> str:
    """A plan as Spark SQL text.

    The plans are portable as compiled (``engine.lang.portable``), so this is
    sqlglot's Spark generator and nothing else; the one place a Spark-only
    adjustment of a plan would belong.
    """
    return str(tree.sql(dialect="spark"))


def plain(value: Any) -> Any:
    """A value from a Spark row as DuckDB's Python client gives it (nested rows as dicts)."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if hasattr(value, "asDict"):  # a Row (a STRUCT): DuckDB gives a dict, in field order
        return {k: plain(v) for k, v in value.asDict(recursive=False).items()}
    return value


class SparkBackend:
    """One loaded log in its own Spark session; runs compiled rules against it.

    ``conf`` adds Spark settings for the session made on first use (a cluster's
    or ``spark-submit``'s own settings stand unless named here); the settings
    the plans' meaning depends on (UTC, ANSI off) are always applied.
    """

    name = "spark"
    dialect = "spark"

    def __init__(
        self,
        events: pa.Table | EventStore,
        *,
        infer_absence_days: float = INFER_ABSENCE_DAYS,
        conf: dict[str, str] | None = None,
    ) -> None:
        remote = _remote()
        self.connect = remote is not None
        if remote is not None:
            self.spark = _connect_session(remote, dict(conf or {}))
        else:
            self.spark = _root_session(dict(conf or {})).newSession()
            # SQL settings are the session's own: this backend's apply even when the context was
            # made before it (by an earlier backend or by spark-submit, which may say otherwise)
            sql_conf = {k: v for k, v in (conf or {}).items() if k.startswith("spark.sql.")}
            for key, value in {**sql_conf, **FIXED_CONF}.items():
                self.spark.conf.set(key, value)
        self._errors = self._error_types()
        self._tables: dict[str, Any] = {}  # materialised name -> its DataFrame (for unpersisting)
        self._staging: str | None = None
        self._notes: list[str] = []
        self._span: tuple[datetime | None, datetime | None] | None = None
        self._managers: list[str] | None = None
        self._outliers: list[str] | None = None
        # Setup tables not made yet: each is made the first time a plan reads it (then kept), so a
        # rule that reads no absences or coverage never pays for them; SETUP_SCRATCH ones are views.
        self._pending: dict[str, exp.Expr] = dict(setup_plan(infer_absence_days))
        try:
            with self._spark_errors("loading the events"):
                self._view(RAW, self._events_frame(events))
                self._need([EVENTS, SPAN, OUTLIERS, SCOPES_MANAGER])  # what the report itself reads
        except BaseException:
            self.close()
            raise

    def _need(self, names: list[str]) -> None:
        """Make the pending setup tables among ``names``, each after the setup tables it reads."""
        for name in names:
            plan = self._pending.pop(name, None)
            if plan is None:
                continue
            self._need(sorted({table.name for table in plan.find_all(exp.Table)}))
            if name in SETUP_SCRATCH:  # read once or twice by the next steps: a view, not a table
                self._view(name, self.spark.sql(render(plan)))
            else:
                self._materialise(name, render(plan))

    def _reads(self, rule: CompiledRule) -> list[str]:
        """The tables any plan of ``rule`` reads (its own stages among them)."""
        trees = [tree for _, tree in rule.stages]
        trees += [t for t in (rule.presence, rule.findings, rule.assessment, rule.coverage, rule.small_teams) if t]
        trees += [plan.query for plan in rule.counter]
        trees += [note.query for _, stage in rule.stages for note in plan_notes(stage)]
        return sorted({table.name for tree in trees for table in tree.find_all(exp.Table)})

    # -- loading and materialising ----------------------------------------------------------------

    def _error_types(self) -> tuple[type[BaseException], ...]:
        """The exceptions a failed Spark statement raises (PySpark's own, and py4j's for the JVM's)."""
        types: list[type[BaseException]] = []
        try:
            from pyspark.errors import PySparkException

            types.append(PySparkException)
        except ImportError:
            pass
        try:
            from py4j.protocol import Py4JError

            types.append(Py4JError)
        except ImportError:
            pass
        return tuple(types) or (Exception,)

    @contextmanager
    def _spark_errors(self, doing: str, rule: CompiledRule | None = None) -> Iterator[None]:
        try:
            yield
        except self._errors as exc:
            if rule is not None:
                raise EngineError(
                    [
                        Problem(
                            rule.loaded.path,
                            0,
                            0,
                            f"rule '{rule.id}' failed to run on Spark (please report this): {_first_line(exc)}",
                        )
                    ]
                ) from exc
            raise _problem(f"Spark failed while {doing}: {_first_line(exc)}") from exc

    def _events_frame(self, events: pa.Table | EventStore) -> Any:
        """The events as a Spark DataFrame with EVENT_SCHEMA's columns and types.

        Locally the table goes through a Parquet file (typed, no per-row Python,
        any size); a cluster or a Connect server cannot read this machine's
        files, so there the rows are sent from the driver.
        """
        if isinstance(events, EventStore):  # the load's DuckDB store: its events as Arrow (typed as Spark reads them)
            events = events.arrow()
        events = events.select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA)
        master = "" if self.connect else str(self.spark.sparkContext.master)
        if master.startswith("local"):
            self._staging = tempfile.mkdtemp(prefix="salesmirror-spark-")
            path = os.path.join(self._staging, "events.parquet")
            pq.write_table(events, path)
            return self.spark.read.parquet(path)
        return self.spark.createDataFrame(
            [tuple(row.values()) for row in events.to_pylist()], schema=_schema_ddl(), verifySchema=False
        )

    def _view(self, name: str, frame: Any) -> None:
        frame.createOrReplaceTempView(name)

    def _materialise(self, name: str, sql: str) -> None:
        """Compute a stage once and keep it, its lineage cut, so later stages plan quickly.

        A view would be recomputed by every query reading it, and a cached
        query keeps its whole lineage to analyse again each time it is read;
        a local checkpoint is the computed rows alone. Spark Connect (3.5) has
        no checkpoints, so there the stage is cached.
        """
        frame = self.spark.sql(sql)
        if self.connect:
            frame = frame.cache()
            frame.count()
        else:
            frame = frame.localCheckpoint(eager=True)
        self._view(name, frame)
        self._tables[name] = frame

    def _drop(self, name: str) -> None:
        frame = self._tables.pop(name, None)
        self.spark.catalog.dropTempView(name)
        if frame is not None:
            _release(frame)

    def _fetch(self, sql: str) -> list[dict[str, Any]]:
        frame = self.spark.sql(sql)
        columns = frame.columns
        return [{c: plain(v) for c, v in zip(columns, row)} for row in frame.collect()]

    # -- the Backend protocol --------------------------------------------------------------------

    def span(self) -> tuple[datetime | None, datetime | None]:
        if self._span is None:  # fixed once the setup is made: asked once
            rows = self._fetch(f"SELECT span_start, span_end FROM {SPAN}")
            self._span = (rows[0]["span_start"], rows[0]["span_end"]) if rows else (None, None)
        return self._span

    def warnings(self) -> list[str]:
        if self._outliers is None:
            listed = self._fetch(
                f"SELECT id, ts, file, line, trimmed, COUNT(*) OVER () AS sm_total FROM {OUTLIERS} "
                f"ORDER BY ts, id LIMIT {OUTLIERS_LISTED}"
            )
            rows = [(r["id"], r["ts"], r["file"], r["line"], r["trimmed"]) for r in listed]
            self._outliers = outlier_warnings(rows, int(listed[0]["sm_total"]) if listed else 0, self.span())
        return self._outliers + self._notes

    def managers(self) -> list[str]:
        if self._managers is None:
            rows = self._fetch(f"SELECT DISTINCT manager FROM {SCOPES_MANAGER} ORDER BY 1")
            self._managers = [r["manager"] for r in rows]
        return list(self._managers)

    def origins(self, ids: list[str]) -> dict[str, Origin]:
        """File, line and source record of the given events (for citing evidence)."""
        wanted = sorted(set(ids))
        found: dict[str, Origin] = {}
        for start in range(0, len(wanted), ORIGIN_CHUNK):
            chunk = wanted[start : start + ORIGIN_CHUNK]
            listed = ", ".join(exp.Literal.string(i).sql(dialect=self.dialect) for i in chunk)
            rows = self._fetch(f"SELECT id, file, line, source FROM {EVENTS} WHERE id IN ({listed})")
            found.update({r["id"]: Origin(file=r["file"], line=r["line"], source=r["source"]) for r in rows})
        return found

    def run(self, rule: CompiledRule) -> RuleResult:
        names: list[str] = []
        try:
            with self._spark_errors("running a rule", rule):
                return self._run(rule, names)
        finally:
            for name in reversed(names):
                self._drop(name)

    def _run(self, rule: CompiledRule, names: list[str]) -> RuleResult:
        """Materialise each stage (recording it for clean-up), then fetch the results."""
        self._need(self._reads(rule))
        if rule.presence is not None:  # a log with none of what the rule needs: it cannot judge anyone
            present = self._fetch(render(rule.presence))[0]
            missing = [types for index, types in enumerate(rule.needs) if not present[f"n{index}"]]
            if missing:
                return RuleResult([], [], missing=missing)
        for name, stage in rule.stages:
            names.append(name)
            self._materialise(name, render(stage))
        assert rule.findings is not None
        findings = self._fetch(render(rule.findings))
        if rule.counter and findings:
            self._counter_evidence(rule, findings, names)
        assessment = self._fetch(render(rule.assessment)) if rule.assessment else []
        coverage = self._fetch(render(rule.coverage)) if rule.coverage is not None else []
        small = self._fetch(render(rule.small_teams)) if rule.small_teams is not None else []
        self._note_cut_offs(rule)
        return RuleResult(findings, assessment, coverage=coverage, small_teams=small)

    def _counter_evidence(self, rule: CompiledRule, findings: list[dict[str, Any]], names: list[str]) -> None:
        """Look up each finding's counter-evidence (engine.lang.counter) into its row's ``sm_counter``."""
        table = f"{rule.prefix}{FOUND}"
        rows = [(index, row["manager"], row["window_start"], row["window_end"]) for index, row in enumerate(findings)]
        frame = self.spark.createDataFrame(
            rows, schema="sm_idx BIGINT, manager STRING, window_start TIMESTAMP_NTZ, window_end TIMESTAMP_NTZ"
        )
        names.append(table)
        self._view(table, frame)
        for row in findings:
            row["sm_counter"] = []
        for plan in rule.counter:
            for hit in self._fetch(render(plan.query)):
                findings[int(hit["sm_idx"])]["sm_counter"].append(
                    {"name": plan.name, "count": hit["n"], "value": hit["value"], "ids": list(hit["ids"] or [])}
                )

    def _note_cut_offs(self, rule: CompiledRule) -> None:
        """Word each cut-off the rule's plan applied to some event (engine.lang.derive.Note)."""
        notes = {(render(n.query), n.text) for _, stage in rule.stages for n in plan_notes(stage)}
        for sql, text in sorted(notes):
            rows = self.spark.sql(sql).collect()
            if rows and rows[0][0]:
                count, example = rows[0][0], rows[0][1]
                origin = self.origins([example]).get(example)
                where = f" ({origin.file}:{origin.line})" if origin else ""
                self._notes.append(f"rule '{rule.id}': {count:,} event(s) (e.g. '{example}'{where}) {text}")

    def close(self) -> None:
        """Drop this log's tables and files; the shared Spark context stays up for the next log."""
        for name in list(self._tables):
            try:
                self._drop(name)
            except self._errors:  # the session is already gone: nothing left to release
                self._tables.pop(name, None)
        if self.connect:
            with suppress(*self._errors):  # the server may already have dropped the session
                self.spark.stop()
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None


def _release(frame: Any) -> None:
    """Free what a materialised stage holds: its cache, or the blocks of its local checkpoint."""
    try:
        frame.unpersist()
        rdd = getattr(frame, "_jdf", None)
        if rdd is not None:
            # a local checkpoint's rows live in the persisted RDD under its LogicalRDD
            plan = frame._jdf.queryExecution().analyzed()
            if plan.getClass().getSimpleName() == "LogicalRDD":
                plan.rdd().unpersist(False)
    except Exception:  # best effort: the rows are freed with the context in any case
        pass
