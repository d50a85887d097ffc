"""HTTP API over the ``Engine`` (``matcher serve``): JSON in, the library's ``to_dict()`` out.

    from matcher.api import create_app
    app = create_app(Engine(openings="openings.csv"), token="...")   # any ASGI server

Endpoints (all under /api/v1): titles/normalize, credentials/normalize, plans, openings/rank,
openings/{id}/clients, jobs (upload an intake file, scored in the background), health.  Every
error is JSON ``{"error": {"code", "message"}}``; a message never repeats a value the caller sent.
Nothing is kept at module level: each ``create_app`` call owns its engine, lock and job folder.
"""
from __future__ import annotations

import copy
import hmac
import logging
import math
import os
import secrets
import shutil
import tempfile
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException

from .errors import ConfigError, InputError, MatcherError

__all__ = ["API_PREFIX", "create_app"]

log = logging.getLogger("matcher.api")

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_JSON_BYTES = 4 * 1024 * 1024          # request bodies other than uploads
MAX_PENDING_JOBS = 8                      # queued + running; more -> 429
JOB_CHUNK_ROWS = 250                      # rows scored per lock hold: requests interleave with a job
UPLOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".jsonl", ".ndjson", ".parquet")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
                429: "too_many_jobs", 500: "internal_error"}


# --- request bodies ----------------------------------------------------------------------------
def _s(n: int):
    return Field(default=None, max_length=n)


Number = float | Annotated[str, Field(max_length=40)]


class Intake(BaseModel):
    """One client, with the intake column names of ``matcher score``.  Values are read exactly as
    a cell of an intake file (numbers may be given as numbers or text)."""

    model_config = ConfigDict(extra="forbid")

    client_id: str | None = _s(100)
    previous_title: str | None = _s(500)
    credential: str | None = _s(500)
    country: str | None = _s(60)
    language: str | None = _s(20)
    english_level: str | None = _s(20)
    years_experience: Number | None = None
    zip: str | None = _s(20)
    needs_income_now: bool | Annotated[str, Field(max_length=20)] | None = None
    budget_usd: Number | None = None
    notes: str | None = _s(10_000)
    passed_exams: (Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=50)]
                   | Annotated[str, Field(max_length=2_000)] | None) = Field(
        default=None, description="exams or credentials passed or held: a list, or one '|'-joined string")
    work_authorized: str | None = _s(20)
    graduation_year: int | Annotated[str, Field(max_length=10)] | None = None
    onet_code: str | None = Field(default=None, max_length=20, description="an O*NET-SOC code given outright")
    intake_date: str | None = Field(default=None, max_length=20, description="the intake date (YYYY-MM-DD), "
                                                                            "kept for the impact report")
    state: str | None = Field(default=None, max_length=2, description="licence state used when the ZIP does not "
                                                                       "decide it (default: the server's)")


class TitleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=500)
    language: str | None = _s(20)
    country: str | None = _s(60)
    top: int | None = Field(default=None, ge=1, le=50)


class CredentialRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=500)
    country: str | None = _s(60)


class RankOpeningsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client: Intake
    top: int = Field(default=5, ge=1, le=50)


class RankClientsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clients: list[Intake] = Field(min_length=1, max_length=500)
    top: int = Field(default=10, ge=1, le=500)


# --- helpers -----------------------------------------------------------------------------------
class ApiError(HTTPException):
    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None):
        super().__init__(status, message, headers)
        self.code = code or STATUS_CODES.get(status, "error")


def _error(status: int, message: str, code: str | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code or STATUS_CODES.get(status, "error"), "message": message}},
                        status_code=status, headers=headers)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.3g} MB"


def _plain(v: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_plain(x) for x in v]
    if hasattr(v, "item") and type(v).__module__ == "numpy":
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "to_dict"):
        return _plain(v.to_dict())
    return str(v)


def _cell(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return str(int(v))
    if isinstance(v, (list, tuple)):
        return "|".join(str(x) for x in v)
    return str(v)


def _record(intake: Intake) -> dict:
    """Intake model -> the intake record ``Engine.assess`` reads (column name -> cell text)."""
    out = {}
    for k, v in intake.model_dump(exclude_none=True).items():
        if k == "state":
            continue
        out["exams_passed" if k == "passed_exams" else k] = _cell(v)
    return out


def _validation_message(exc: RequestValidationError) -> str:
    """Where and what, never the value: 'body.previous_title: string_too_long (...)'."""
    parts = []
    for err in exc.errors()[:10]:
        loc = ".".join(str(x)[:50] for x in err.get("loc", ()))
        msg = str(err.get("msg", ""))[:200]
        parts.append(f"{loc}: {err.get('type', 'invalid')}" + (f" ({msg})" if msg else ""))
    more = len(exc.errors()) - 10
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


# --- jobs --------------------------------------------------------------------------------------
class _Cancelled(Exception):
    pass


@dataclass
class Job:
    id: str
    dir: Path
    input: Path
    status: str = "queued"
    rows_done: int = 0
    rows_total: int | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    cancelled: bool = False
    label: str = ""                      # the uploaded file's name (shown only to the web session that sent it)
    summary: dict | None = None          # the web page's counts and problem rows, once computed

    @property
    def result(self) -> Path:
        return self.dir / "result.csv"

    def to_dict(self) -> dict:
        d = {"id": self.id, "status": self.status, "rows_done": self.rows_done, "rows_total": self.rows_total}
        if self.error:
            d["error"] = self.error
        if self.status == "done":
            d["result_url"] = f"{API_PREFIX}/jobs/{self.id}/result"
        return d


class JobStore:
    """Uploaded intake files scored one at a time in a background thread, each in its own private
    folder (0700) under one private base folder; removed on DELETE, after ``retention`` seconds
    once finished, and all at once on ``close()`` (app shutdown, or interpreter exit)."""

    def __init__(self, engine, lock: threading.Lock, max_rows: int, retention: float, job_dir=None):
        self.engine, self.lock, self.max_rows, self.retention = engine, lock, max_rows, retention
        self.base = Path(tempfile.mkdtemp(prefix="matcher-api-", dir=job_dir))
        os.chmod(self.base, 0o700)
        self.jobs: dict[str, Job] = {}
        self._guard = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matcher-job")
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.base), True)

    def new(self) -> Job:
        with self._guard:
            pending = sum(j.status in ("queued", "running") for j in self.jobs.values())
            if pending >= MAX_PENDING_JOBS:
                raise ApiError(429, f"{pending} jobs are already waiting or running; try again when one is done")
            jid = secrets.token_hex(16)
            d = Path(tempfile.mkdtemp(prefix="job-", dir=self.base))
            job = Job(jid, d, d / "upload.part")
            self.jobs[jid] = job
        return job

    def get(self, jid: str) -> Job:
        job = self.jobs.get(jid)
        if job is None:
            raise ApiError(404, "no job with this id (it may have expired or been deleted)")
        return job

    def start(self, job: Job) -> None:
        self._pool.submit(self._run, job)

    def delete(self, jid: str) -> None:
        with self._guard:
            job = self.jobs.pop(jid, None)
        if job is None:
            raise ApiError(404, "no job with this id (it may have expired or been deleted)")
        job.cancelled = True
        shutil.rmtree(job.dir, ignore_errors=True)

    def discard(self, job: Job) -> None:
        with self._guard:
            self.jobs.pop(job.id, None)
        shutil.rmtree(job.dir, ignore_errors=True)

    def cleanup(self) -> None:
        now = time.time()
        expired = [j for j in list(self.jobs.values())
                   if j.finished is not None and now - j.finished > self.retention]
        for j in expired:
            self.discard(j)

    def close(self) -> None:
        for j in list(self.jobs.values()):
            j.cancelled = True
        # the running job stops at its next chunk; waiting for it means nothing is written after
        # the folder is removed
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.jobs.clear()
        self._finalizer()

    def _job_engine(self):
        """A shallow copy of the engine whose scorer takes the engine lock for each chunk: the job
        and the requests share the loaded models and caches but never run at the same time."""
        eng = copy.copy(self.engine)
        scorer = copy.copy(self.engine.scorer)
        inner, lock = scorer.score_frame, self.lock

        def score_frame(*a, **kw):
            with lock:
                return inner(*a, **kw)

        scorer.score_frame = score_frame
        eng.scorer = scorer
        return eng

    def _count_rows(self, job: Job) -> int:
        from .io import open_table

        n = 0
        for chunk in open_table(job.input, chunksize=50_000):
            n += len(chunk)
            if n > self.max_rows:
                raise InputError(f"the file has more than {self.max_rows:,} rows (the limit of this server); "
                                 f"split it into smaller files")
            if job.cancelled:
                raise _Cancelled
        return n

    def _run(self, job: Job) -> None:
        if job.cancelled:
            return
        job.status = "running"
        try:
            total = self._count_rows(job)
            if total == 0:
                raise InputError("the file has no rows")
            job.rows_total = total

            def progress(n: int) -> None:
                if job.cancelled:
                    raise _Cancelled
                job.rows_done += n

            self._job_engine().score_file(job.input, job.result, n_jobs=1, chunk_size=JOB_CHUNK_ROWS,
                                          progress=progress)
            job.status = "done"
        except _Cancelled:
            job.status = "failed"
            job.error = "cancelled"
        except MatcherError as e:
            job.status = "failed"
            # the library names the file: here that is our private path, not the caller's file name
            job.error = str(e).replace(str(job.input), "the uploaded file").replace(str(job.dir), "")[:1000]
        except Exception as e:  # noqa: BLE001 - a job never takes the server down
            job.status = "failed"
            job.error = f"internal error while scoring the file ({type(e).__name__})"
            if not job.cancelled:
                log.error("job failed: %s", type(e).__name__)
        finally:
            job.finished = time.time()
            try:
                job.input.unlink(missing_ok=True)      # the upload is not kept once scored
            except OSError:
                pass
            if job.cancelled:
                shutil.rmtree(job.dir, ignore_errors=True)


async def _receive_upload(request: Request, job: Job, limit: int) -> str | None:
    """Stream a multipart body straight into the job folder (``upload.part``), counting bytes;
    returns the ``file`` part's file name ('' when it has none), None when there is no such part.
    Over ``limit`` -> ApiError 413."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise ApiError(400, "send the file as multipart/form-data with the field 'file'")
    state = {"header_field": b"", "headers": {}, "out": None, "found": None}
    out_files = []

    def on_part_begin():
        state["headers"] = {}

    def on_header_field(data, start, end):
        state["header_field"] += data[start:end]

    def on_header_value(data, start, end):
        key = state["header_field"].lower()
        state["headers"][key] = state["headers"].get(key, b"") + data[start:end]

    def on_header_end():
        state["header_field"] = b""

    def on_headers_finished():
        _, opts = parse_options_header(state["headers"].get(b"content-disposition", b""))
        if opts.get(b"name") == b"file" and state["found"] is None:
            state["found"] = opts.get(b"filename", b"").decode("utf-8", "replace")
            f = open(job.input, "xb")  # noqa: SIM115 - closed in on_part_end, or at the latest in finally
            os.chmod(job.input, 0o600)
            out_files.append(f)
            state["out"] = f

    def on_part_data(data, start, end):
        if state["out"] is not None:
            state["out"].write(data[start:end])

    def on_part_end():
        if state["out"] is not None:
            state["out"].close()
            state["out"] = None

    parser = MultipartParser(boundary, {"on_part_begin": on_part_begin, "on_header_field": on_header_field,
                                        "on_header_value": on_header_value, "on_header_end": on_header_end,
                                        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
                                        "on_part_end": on_part_end})
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError(413, f"the upload is larger than the limit of {_mb(limit)}")
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except ApiError:
        raise
    except Exception as e:  # malformed multipart
        raise ApiError(400, "the multipart body could not be read") from e
    finally:
        for f in out_files:
            f.close()
    return state["found"]


# --- the app -----------------------------------------------------------------------------------
class _Guard:
    """Outermost middleware: token check, body size limit, security headers, access log (method,
    path, status, ms; never bodies, query strings or file names), and the catch-all 500."""

    def __init__(self, app, token: str | None, upload_limit: int, store: JobStore, state=None, caseload=None):
        self.app, self.token, self.upload_limit, self.store, self.state = app, token, upload_limit, store, state
        self.caseload = caseload

    def _owner(self, scope) -> str | None:
        """Who calls: 'service' for the server's token, a navigator's name for their token, 'local'
        when the server has no token and none is sent; None for a wrong token."""
        sent = None
        for k, v in scope.get("headers", ()):
            if k == b"authorization":
                scheme, _, cred = v.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer":
                    sent = cred.strip()
        if sent is None:
            return None if self.token else "local"
        if self.token and hmac.compare_digest(sent.encode(), self.token.encode()):
            return "service"
        if self.caseload is not None:
            try:
                return self.caseload.token_owner(sent)
            except Exception:  # noqa: BLE001 - a database problem is not an identity
                return None
        return None if self.token else "local"

    def _reply(self, scope, status: int, message: str, code: str | None = None):
        """An error response: the web app's HTML page for a page path, else the API's JSON."""
        from .web import is_web_path

        page = getattr(self.state, "web_error_page", None) if is_web_path(scope.get("path", "")) else None
        if page is not None:
            try:
                return page(Request(scope), status, message[:1].upper() + message[1:].rstrip(".") + ".")
            except Exception:  # noqa: BLE001 - the error page itself must not fail the reply
                pass
        return _error(status, message, code)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        method, path = scope.get("method", ""), scope.get("path", "")
        status = [500]
        started = [False]
        api = path.startswith("/api")

        async def send_wrapper(msg):
            if msg["type"] == "http.response.start":
                status[0] = msg["status"]
                headers = MutableHeaders(scope=msg)
                for k, v in SECURITY_HEADERS:
                    headers[k.decode()] = v.decode()
                if not path.startswith("/static/"):
                    headers["cache-control"] = "no-store"
                if "server" in headers:
                    del headers["server"]
                await send(msg)
                started[0] = True
                return
            await send(msg)

        from .web import WEB_UPLOAD_PATHS

        uploads = (f"{API_PREFIX}/jobs",) + WEB_UPLOAD_PATHS
        limit = self.upload_limit if (method == "POST" and path in uploads) else MAX_JSON_BYTES
        received = [0]

        async def receive_wrapper():
            msg = await receive()
            if msg["type"] == "http.request":
                received[0] += len(msg.get("body", b""))
                if received[0] > limit:
                    raise ApiError(413, f"the request body is larger than the limit of {_mb(limit)}")
            return msg

        try:
            self.store.cleanup()
            owner = self._owner(scope)
            scope.setdefault("state", {})["owner"] = owner
            if (api or path in ("/docs", "/openapi.json")) and owner is None:
                resp = _error(401, "missing or wrong bearer token (send 'Authorization: Bearer <token>')",
                              headers={"WWW-Authenticate": "Bearer"})
                return await resp(scope, receive, send_wrapper)
            clen = dict(scope.get("headers", ())).get(b"content-length")
            if clen is not None:
                try:
                    n = int(clen)
                except ValueError:
                    return await self._reply(scope, 400, "bad Content-Length header")(scope, receive, send_wrapper)
                if n > limit:
                    return await self._reply(scope, 413, f"the request body is larger than the limit of "
                                                         f"{_mb(limit)}")(scope, receive, send_wrapper)
            await self.app(scope, receive_wrapper, send_wrapper)
        except ApiError as e:
            if not started[0]:
                await self._reply(scope, e.status_code, e.detail, e.code)(scope, receive, send_wrapper)
        except Exception as e:  # noqa: BLE001 - the catch-all: no details to the client, only the type to the log
            log.error("internal error on %s %s: %s", method, path, type(e).__name__)
            if not started[0]:
                await self._reply(scope, 500, "internal error")(scope, receive, send_wrapper)
        finally:
            log.info("%s %s %s %.1fms", method, path, status[0], (time.perf_counter() - t0) * 1000)


DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>matcher API</title>
<link rel="stylesheet" href="/static/swagger/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/swagger/init.js"></script>
</body>
</html>
"""

ERROR_SCHEMA = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "code": {"type": "string"}, "message": {"type": "string"}}, "required": ["code", "message"]}},
    "required": ["error"]}

UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "properties": {"file": {"type": "string", "format": "binary",
                                              "description": "intake file: CSV, XLSX, JSONL or Parquet"}},
    "required": ["file"]}}}}


def create_app(engine, token: str | None = None, max_upload_mb: float = 50, max_rows: int = 200_000,
               retention_minutes: float = 60, job_dir: str | Path | None = None, web: bool = True,
               caseload=None) -> FastAPI:
    """The API for one loaded ``Engine``.  ``token``: when set, every /api endpoint, /docs and
    /openapi.json need ``Authorization: Bearer <token>``.  Uploads over ``max_upload_mb`` are
    refused (413); files over ``max_rows`` rows fail as jobs; finished jobs are removed after
    ``retention_minutes``.  ``job_dir``: where the private job folder is made (default: TMPDIR).  ``web``: also serve the
    navigator's web app (``matcher.web``) at /client, /batch, /openings.  ``caseload``: a
    ``matcher.store.Store``; with it, /api/v1/clients keeps clients, plans and outcome events, and
    a navigator's own token (``matcher users add``) identifies who writes."""
    try:
        from importlib.metadata import version as _dist_version

        version = _dist_version("matcher")
    except Exception:  # noqa: BLE001 - running from a checkout
        version = "0"
    lock = threading.Lock()
    store = JobStore(engine, lock, max_rows, retention_minutes * 60, job_dir)
    upload_limit = int(max_upload_mb * 1024 * 1024)

    @asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            store.close()

    app = FastAPI(title="matcher API", version=str(version), docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json", lifespan=lifespan,
                  description="Credential pathway matching: titles, credentials, plans, openings, batch jobs. "
                              "Errors are JSON {\"error\": {\"code\", \"message\"}}.")
    app.state.engine = engine
    app.state.engine_lock = lock
    app.state.jobs = store
    app.state.token_required = bool(token)
    app.add_middleware(_Guard, token=token or None, upload_limit=upload_limit, store=store, state=app.state,
                       caseload=caseload)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # --- errors ---
    def web_page(request):
        from .web import is_web_path

        return getattr(app.state, "web_error_page", None) if is_web_path(request.url.path) else None

    @app.exception_handler(RequestValidationError)
    async def _validation(request, exc):
        if web_page(request):
            return web_page(request)(request, 400, "The request was not understood: " + _validation_message(exc))
        return _error(400, _validation_message(exc), "invalid_request")

    @app.exception_handler(HTTPException)
    async def _http(request, exc):
        if web_page(request):
            msg = {404: "There is no such page.", 405: "This page cannot be used that way."}.get(
                exc.status_code, str(exc.detail)[:500])
            return web_page(request)(request, exc.status_code, exc.detail if isinstance(exc, ApiError) else msg)
        if isinstance(exc, ApiError):
            return _error(exc.status_code, exc.detail, exc.code, exc.headers)
        msg = {404: "not found", 405: "method not allowed"}.get(exc.status_code, str(exc.detail)[:200])
        return _error(exc.status_code, msg, headers=getattr(exc, "headers", None))

    @app.exception_handler(MatcherError)
    async def _matcher(request, exc):
        if isinstance(exc, (InputError, ConfigError)):
            if web_page(request):
                return web_page(request)(request, 400, str(exc)[:1000])
            return _error(400, str(exc)[:1000], "invalid_input")
        log.error("internal error on %s: %s", request.url.path, type(exc).__name__)
        if web_page(request):
            return web_page(request)(request, 500, "Internal error: the problem was logged (without client data).")
        return _error(500, "internal error")

    def run(fn, *a, **kw):
        with lock:
            return fn(*a, **kw)

    views: dict = {}      # licence state -> a view of the engine with that default state

    def engine_for(intake: Intake):
        """The engine, or a view of it with another default licence state (``state`` field)."""
        return state_view((intake.state or "").strip().upper())

    def state_view(st: str):
        """The engine with another default licence state (a view sharing the loaded parts)."""
        if not st or st == engine.config.state:
            return engine
        states = list(engine.pathways.licensing.states)
        if st not in states:
            raise ApiError(400, f"body.state: must be one of {', '.join(states)}", "invalid_request")
        if st not in views:
            from dataclasses import replace

            view = copy.copy(engine)
            scorer = copy.copy(engine.scorer)
            scorer.config = replace(engine.scorer.config, state=st)
            scorer._place_cache, scorer._openings_cache = {}, {}
            view.scorer, view.config = scorer, scorer.config
            views[st] = view
        return views[st]

    # --- endpoints ---
    p = API_PREFIX

    @app.get(f"{p}/health", tags=["service"], summary="Liveness and data versions")
    def health():
        return JSONResponse({"status": "ok", "versions": _plain(engine.versions())})

    @app.post(f"{p}/titles/normalize", tags=["titles"], summary="Map a job title onto O*NET-SOC")
    def normalize_title(body: TitleRequest):
        res = run(engine.normalize_title, body.text, language=body.language or None,
                  country=body.country or None, top=body.top)
        return JSONResponse(_plain(res.to_dict()))

    @app.post(f"{p}/credentials/normalize", tags=["credentials"], summary="Normalize a foreign credential")
    def normalize_credential(body: CredentialRequest):
        res = run(engine.normalize_credential, body.text, body.country or None)
        return JSONResponse(_plain(res.to_dict()))

    @app.post(f"{p}/plans", tags=["plans"], summary="A client's assessment (the `matcher score` row) and plan")
    def plans(body: Intake):
        eng = engine_for(body)
        a = run(eng.assess, _record(body))
        return JSONResponse({"assessment": _plain(a.row), "plan": _plain(a.plan.to_dict()) if a.plan else None})

    def need_openings():
        if engine.openings is None or engine.opening_ranker is None:
            raise ApiError(409, "no openings are loaded: start the server with --openings FILE", "no_openings")

    @app.post(f"{p}/openings/rank", tags=["openings"], summary="Openings ranked for one client")
    def rank_openings(body: RankOpeningsRequest):
        need_openings()
        eng = engine_for(body.client)

        def go():
            a = eng.assess(_record(body.client))
            if a.profile is None:
                raise ApiError(400, "no occupation could be chosen for this client: give onet_code or a "
                                    "recognisable previous_title or credential", "no_occupation")
            return eng.opening_ranker.rank_openings(a.profile, top=body.top)

        return JSONResponse([_plain(m.to_dict()) for m in run(go)])

    @app.post(f"{p}/openings/{{opening_id}}/clients", tags=["openings"],
              summary="Clients ranked for one opening")
    def rank_clients(body: RankClientsRequest,
                     opening_id: Annotated[str, PathParam(min_length=1, max_length=100)]):
        need_openings()
        if opening_id not in set(engine.openings["opening_id"].astype(str)):
            raise ApiError(404, "no opening with this id")
        records = [_record(c) for c in body.clients]
        for c in body.clients:
            engine_for(c)     # validates every state
        eng = engine_for(body.clients[0]) if len({(c.state or "").upper() for c in body.clients}) == 1 else None
        if eng is None:
            raise ApiError(400, "body.clients: all clients must have the same state", "invalid_request")
        res = run(eng.rank_clients, opening_id, records, top=body.top)
        return JSONResponse([_plain(m.to_dict()) for m in res])

    @app.post(f"{p}/jobs", tags=["jobs"], status_code=202, summary="Upload an intake file to score",
              openapi_extra={"requestBody": UPLOAD_BODY})
    async def create_job(request: Request):
        job = store.new()
        try:
            filename = await _receive_upload(request, job, upload_limit)
            if filename is None:
                raise ApiError(400, "the multipart field 'file' is missing")
            suffix = Path(filename).suffix.lower()
            if suffix not in UPLOAD_SUFFIXES:
                raise ApiError(400, f"the file must be one of {', '.join(UPLOAD_SUFFIXES)} (by its name)")
            job.input = job.dir / f"input{suffix}"
            (job.dir / "upload.part").rename(job.input)
        except BaseException:
            store.discard(job)
            raise
        store.start(job)
        return JSONResponse({"id": job.id, "status": job.status, "status_url": f"{p}/jobs/{job.id}",
                             "result_url": f"{p}/jobs/{job.id}/result"}, status_code=202)

    @app.get(f"{p}/jobs/{{job_id}}", tags=["jobs"], summary="A job's status and progress")
    def job_status(job_id: Annotated[str, PathParam(max_length=100)]):
        return JSONResponse(store.get(job_id).to_dict())

    @app.get(f"{p}/jobs/{{job_id}}/result", tags=["jobs"], summary="The scored file (CSV or XLSX)")
    def job_result(job_id: Annotated[str, PathParam(max_length=100)], format: Literal["csv", "xlsx"] = "csv"):
        job = store.get(job_id)
        if job.status != "done" or not job.result.exists():
            raise ApiError(409, f"the job is {job.status}, not done", "not_ready")
        if format == "csv":
            return FileResponse(job.result, media_type="text/csv; charset=utf-8",
                                filename=f"matcher-{job.id}.csv")
        xlsx = job.dir / "result.xlsx"
        if not xlsx.exists():
            from .io import read_table, write_table

            write_table(read_table(job.result), xlsx)
        return FileResponse(xlsx, filename=f"matcher-{job.id}.xlsx",
                            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @app.delete(f"{p}/jobs/{{job_id}}", tags=["jobs"], status_code=204, summary="Delete a job and its files")
    def job_delete(job_id: Annotated[str, PathParam(max_length=100)]):
        store.delete(job_id)
        return Response(status_code=204)

    @app.get("/docs", include_in_schema=False)
    def docs():
        return HTMLResponse(DOCS_HTML)

    def openapi():
        if app.openapi_schema:
            return app.openapi_schema
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        err = {"description": "error",
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for ops in schema.get("paths", {}).values():
            for op in ops.values():
                rs = op.setdefault("responses", {})
                rs.pop("422", None)
                rs.setdefault("400", err)
                if token:
                    rs.setdefault("401", err)
        schema["components"].get("schemas", {}).pop("HTTPValidationError", None)
        schema["components"].get("schemas", {}).pop("ValidationError", None)
        if token:
            schema["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            schema["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    if caseload is not None:
        _caseload_routes(app, engine, caseload, run, engine_for)
    app.openapi = openapi
    if web:
        from .web import add_web

        add_web(app, engine, lock, store, token or None, upload_limit, state_view, caseload=caseload)
    return app


# --- the caseload store (/api/v1/clients) ---------------------------------------------------------
class ClientCreate(Intake):
    consent_date: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD: when the client consented")
    retention_days: int | None = Field(default=None, ge=1, le=3650, description="keep the record this long after consent")


class EventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: str = Field(max_length=30, description="exam_passed, licence_obtained, hired, loan_drawn, loan_repaid, "
                                                  "left_programme")
    date: str = Field(max_length=10, description="YYYY-MM-DD")
    occupation: str | None = _s(20)
    hourly_wage: float | None = Field(default=None, ge=0, le=1000)
    amount_usd: float | None = Field(default=None, ge=0, le=1_000_000)
    note: str | None = _s(2000)


def _date(v: str | None, field: str):
    import datetime

    if not v:
        return None
    try:
        return datetime.date.fromisoformat(v)
    except ValueError:
        raise ApiError(400, f"body.{field}: not a date (YYYY-MM-DD)", "invalid_request") from None


def _caseload_routes(app, engine, store, run, engine_for) -> None:
    from .store import StoreError

    p = API_PREFIX

    def owner(request: Request) -> str:
        return request.scope.get("state", {}).get("owner") or "local"

    def need(fn, *a, **kw):
        try:
            return fn(*a, **kw)
        except StoreError as e:
            if "no client" in str(e):
                raise ApiError(404, "no client with this id") from None
            raise ApiError(500, "the caseload database is not available") from None

    def assess(body: Intake):
        eng = engine_for(body)
        a = run(eng.assess, _record(body))
        return a, _plain(a.row), (_plain(a.plan.to_dict()) if a.plan else None), _plain(engine.versions())

    @app.post(f"{p}/clients", tags=["caseload"], status_code=201, summary="Save a client and their plan")
    def create_client(body: ClientCreate, request: Request):
        intake = Intake(**body.model_dump(exclude={"consent_date", "retention_days"}))
        _, row, plan, versions = assess(intake)
        cid = need(store.create_client, intake.model_dump(exclude_none=True), row, plan, versions, owner(request),
                   consent_date=_date(body.consent_date, "consent_date"), retention_days=body.retention_days,
                   intake_date=_date(body.intake_date, "intake_date"))
        return JSONResponse({"id": cid, "assessment": row, "plan": plan}, status_code=201)

    @app.get(f"{p}/clients", tags=["caseload"], summary="Clients with their next step, filtered and paged")
    def list_clients(navigator: Annotated[str | None, Query(max_length=100)] = None,
                     status: Literal["on time", "overdue", "done", "left", "no plan"] | None = None,
                     overdue: bool | None = None, offset: Annotated[int, Query(ge=0)] = 0,
                     limit: Annotated[int, Query(ge=1, le=500)] = 50):
        total, items = need(store.list, navigator=navigator, status=status, overdue=overdue, offset=offset,
                            limit=limit)
        return JSONResponse({"total": total, "offset": offset, "limit": limit, "items": _plain(items)})

    @app.get(f"{p}/clients/{{client_id}}", tags=["caseload"], summary="A client: intake, plans, events, status")
    def get_client(client_id: Annotated[str, PathParam(max_length=64)], request: Request):
        return JSONResponse(_plain(need(store.get, client_id, by=owner(request))))

    @app.post(f"{p}/clients/{{client_id}}/events", tags=["caseload"], status_code=201, summary="Record an outcome")
    def add_event(client_id: Annotated[str, PathParam(max_length=64)], body: EventCreate, request: Request):
        when = _date(body.date, "date")
        if when is None:
            raise ApiError(400, "body.date: required (YYYY-MM-DD)", "invalid_request")
        eid = need(store.add_event, client_id, body.event, when, owner(request), occupation=body.occupation or "",
                   hourly_wage=body.hourly_wage, amount_usd=body.amount_usd, note=body.note or "")
        return JSONResponse({"id": eid}, status_code=201)

    @app.post(f"{p}/clients/{{client_id}}/replan", tags=["caseload"], summary="Recompute the plan with today's data")
    def replan(client_id: Annotated[str, PathParam(max_length=64)], request: Request):
        intake = Intake(**need(store.intake, client_id))
        _, row, plan, versions = assess(intake)
        need(store.replan, client_id, row, plan, versions, owner(request))
        return JSONResponse({"id": client_id, "assessment": row, "plan": plan})

    @app.get(f"{p}/clients/{{client_id}}/export", tags=["caseload"], summary="Everything about one client (JSON)")
    def export(client_id: Annotated[str, PathParam(max_length=64)], request: Request):
        data = need(store.get, client_id, by=owner(request))
        data["audit"] = store.audit_trail(client_id)
        return JSONResponse(_plain(data), headers={"Content-Disposition": f'attachment; filename="client-{client_id}.json"'})

    @app.delete(f"{p}/clients/{{client_id}}", tags=["caseload"], status_code=204, summary="Delete a client entirely")
    def delete_client(client_id: Annotated[str, PathParam(max_length=64)], request: Request):
        need(store.delete_client, client_id, owner(request))
        return Response(status_code=204)
