"""The navigator's web app: server-rendered pages over the same ``Engine`` as the API.

    /client          intake form -> occupation (pick another candidate), credential, plan, openings
    /plan/print      the printable one-page plan in English or the client's language
    /batch           upload an intake file, follow its progress, download the scored file
    /openings        rank the clients of an intake file for one opening (loaded or uploaded)
    /login, /logout  when the server has a token: asked once, then a session cookie

Every answer comes from the engine (``assess``, ``normalize_title``, ``plan_openings``,
``plan_html``, ``rank_clients``, ``with_openings``) and the API's job store; this module only reads
forms and renders templates (``templates/web/``).  Sessions live in the app (never at module
level), expire after ``SESSION_IDLE_SECONDS`` idle or ``SESSION_MAX_SECONDS`` in all, and carry the
CSRF token every form posts back.  Pages get the API's security headers and CSP (no inline script
or style: ``static/app.css``, ``static/app.js``, ``static/plan.css``).  Client data is neither
logged nor kept: a session holds at most the intake file of the opening page, in memory, until it
ends; batch jobs are the API's (private folder, removed after the retention time).
"""
from __future__ import annotations

import hmac
import math
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.concurrency import run_in_threadpool

from .errors import InputError, MatcherError

__all__ = ["WEB_UPLOAD_PATHS", "add_web", "is_web_path"]

COOKIE = "matcher_session"
SESSION_IDLE_SECONDS = 60 * 60           # a navigator's session ends after an hour without a request
SESSION_MAX_SECONDS = 12 * 60 * 60       # ... and after twelve hours in all
MAX_SESSIONS = 2_000                     # oldest dropped beyond this
LOGIN_MAX_FAILURES = 10                  # wrong tokens per address within LOGIN_WINDOW_SECONDS -> 429
LOGIN_WINDOW_SECONDS = 15 * 60
MAX_RANK_CLIENTS = 2_000                 # intake rows the opening page ranks at once
MAX_UPLOADED_OPENINGS = 5_000            # openings in a file uploaded on the opening page
MAX_PROBLEM_ROWS_SHOWN = 200             # problem rows listed on a finished batch page
CANDIDATES_SHOWN = 6                     # title candidates offered on the client page
WEB_UPLOAD_PATHS = ("/batch", "/openings", "/report")
TEMPLATES = Path(__file__).resolve().parent / "templates"

# the intake form: field -> (label, hint); the names are the intake columns of ``matcher score``
FORM_FIELDS = {
    "client_id": ("Client id", "Your centre's id for the client (optional). Never a name."),
    "previous_title": ("Previous job title", "As the client says it, in any language: enfermera, طبيب عام, зварник."),
    "credential": ("Credential", "The degree or diploma as written: Licenciatura en Enfermería, MBBS, BTS Électrotechnique."),
    "country": ("Country of training", "ISO code or name: CU, Syria, Ukraine."),
    "language": ("Client's language", "Also the language of the printable plan when we have it."),
    "english_level": ("English level or test score", "A CEFR level (A1 to C2) or a score: IELTS 6.5, TOEFL 80."),
    "years_experience": ("Years of experience", "In the occupation, abroad and here."),
    "zip": ("ZIP code", "Where the client lives: decides the state's licences and local wages."),
    "work_authorized": ("Work authorization", ""),
    "graduation_year": ("Graduation year", "Some boards limit how long ago a foreign degree may be."),
    "needs_income_now": ("Needs income now", "Plan a job to earn in meanwhile first."),
    "budget_usd": ("Budget (USD)", "What the client can put towards fees."),
    "exams_passed": ("Exams passed or credentials held", "Separate with |: USMLE-1|ECFMG-CERT|IELTS."),
    "notes": ("Notes", "Read for exams passed or planned, English scores, years. Not stored."),
    "state": ("Licence state", ""),
}
TEXT_LIMITS = {"client_id": 100, "previous_title": 500, "credential": 500, "country": 60, "language": 20,
               "english_level": 20, "years_experience": 40, "zip": 20, "work_authorized": 20, "graduation_year": 10,
               "needs_income_now": 20, "budget_usd": 40, "exams_passed": 2_000, "notes": 10_000, "state": 2,
               "onet_code": 20}
WORK_AUTH_CHOICES = [("", "not recorded"), ("yes", "yes"), ("pending", "pending"), ("no", "no")]


def is_web_path(path: str) -> bool:
    return not path.startswith(("/api", "/static", "/openapi.json", "/docs"))


# --- sessions ----------------------------------------------------------------------------------
@dataclass
class Session:
    id: str
    csrf: str
    created: float
    seen: float
    authed: bool = False
    navigator: str = ""                              # who signed in (caseload store), else ''
    jobs: set = field(default_factory=set)
    workspace: dict = field(default_factory=dict)   # the opening page's intake and openings


class Sessions:
    """In-memory sessions of one app: random ids, idle and absolute expiry, a size bound."""

    def __init__(self):
        self._s: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._failures: dict[str, list[float]] = {}

    def _expired(self, s: Session, now: float) -> bool:
        return now - s.seen > SESSION_IDLE_SECONDS or now - s.created > SESSION_MAX_SECONDS

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        now = time.time()
        with self._lock:
            s = self._s.get(sid)
            if s is None:
                return None
            if self._expired(s, now):
                self._s.pop(sid, None)
                return None
            s.seen = now
            return s

    def new(self, authed: bool = False) -> Session:
        now = time.time()
        s = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now, authed)
        with self._lock:
            for k in [k for k, v in self._s.items() if self._expired(v, now)]:
                self._s.pop(k, None)
            while len(self._s) >= MAX_SESSIONS:
                self._s.pop(min(self._s, key=lambda k: self._s[k].seen), None)
            self._s[s.id] = s
        return s

    def drop(self, sid: str) -> Session | None:
        with self._lock:
            return self._s.pop(sid, None)

    def login_blocked(self, addr: str) -> bool:
        now = time.time()
        with self._lock:
            recent = [t for t in self._failures.get(addr, []) if now - t < LOGIN_WINDOW_SECONDS]
            self._failures[addr] = recent
            return len(recent) >= LOGIN_MAX_FAILURES

    def login_failed(self, addr: str) -> None:
        with self._lock:
            self._failures.setdefault(addr, []).append(time.time())
            if len(self._failures) > MAX_SESSIONS:
                self._failures.pop(next(iter(self._failures)))


# --- small helpers -------------------------------------------------------------------------------
def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = lambda v: (f"${float(v):,.0f}" if _num(v) is not None else "")
    env.filters["pct"] = lambda v: (f"{float(v):.0%}" if _num(v) is not None else "")
    return env


def _num(v) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _safe_next(target: str | None) -> str:
    """A local path to go back to after login, never another site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/client"
    parts = urlsplit(target)
    return parts.path if not parts.scheme and not parts.netloc else "/client"


def _client_addr(request: Request) -> str:
    return request.client.host if request.client else "?"


def _form_record(form) -> tuple[dict, dict, list[str]]:
    """The posted intake form -> (the values to show again, the intake record, problems)."""
    values, problems = {}, []
    for name, limit in TEXT_LIMITS.items():
        v = form.get(name)
        v = "" if v is None or not isinstance(v, str) else v.strip()
        if len(v) > limit:
            problems.append(f"{FORM_FIELDS.get(name, ('Occupation',))[0]}: at most {limit:,} characters")
            v = v[:limit]
        values[name] = v
    values["needs_income_now"] = "yes" if form.get("needs_income_now") in ("yes", "on", "true") else "no"
    if values["work_authorized"] not in {c for c, _ in WORK_AUTH_CHOICES}:
        problems.append("Work authorization: choose one of the options")
        values["work_authorized"] = ""
    if values["state"] and values["state"].upper() not in ("KY", "IN"):
        problems.append("Licence state: Kentucky or Indiana")
        values["state"] = ""
    last = form.get("last_title")
    if values["onet_code"] and isinstance(last, str) and last.strip() != values["previous_title"]:
        values["onet_code"] = ""          # a candidate of the previous title: choose again for the new one
    if not (values["previous_title"] or values["credential"] or values["onet_code"]):
        problems.append("Enter a previous job title or a credential")
    record = {k: v for k, v in values.items() if v and k != "state"}
    record.setdefault("client_id", "client")
    return values, record, problems


# --- the app -------------------------------------------------------------------------------------
def add_web(app, engine, lock: threading.Lock, store, token: str | None, max_upload_bytes: int,
            state_view=None, caseload=None) -> None:
    """Register the web pages on ``app`` (the API's app: same engine, lock, job store, headers).
    ``state_view(state)``: the engine with another default licence state (the API's views)."""
    from .api import ApiError, _plain

    env = _environment()
    sessions = Sessions()
    app.state.web_sessions = sessions
    languages: dict[str, str] = {}

    def langs() -> dict[str, str]:
        if not languages:
            from .i18n import available_languages

            languages.update(available_languages())
        return languages

    def run(fn, *a, **kw):
        with lock:
            return fn(*a, **kw)

    def versions() -> dict:
        try:
            return _plain(engine.versions())
        except Exception:  # noqa: BLE001 - the footer never breaks a page
            return {}

    # --- rendering and the session cookie ---
    def page(request: Request, sess: Session | None, template: str, status: int = 200, **ctx) -> HTMLResponse:
        ctx.setdefault("title", "matcher")
        ctx.update(csrf=sess.csrf if sess else "", signed_in=bool(sess and sess.authed),
                   token_required=bool(token) or accounts(), path=request.url.path, versions=versions(),
                   openings_loaded=engine.openings is not None, caseload=caseload is not None,
                   navigator=sess.navigator if sess else "")
        resp = HTMLResponse(env.get_template(f"web/{template}").render(**ctx), status_code=status)
        if sess is not None:
            _set_cookie(request, resp, sess)
        return resp

    def _set_cookie(request: Request, resp: Response, sess: Session) -> None:
        resp.set_cookie(COOKIE, sess.id, max_age=SESSION_MAX_SECONDS, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")

    def error_page(request: Request, status: int, message: str) -> HTMLResponse:
        sess = sessions.get(request.cookies.get(COOKIE))
        return page(request, sess, "error.html", status=status, title=f"Error {status}", code=status,
                    message=message)

    app.state.web_error_page = error_page

    def accounts() -> bool:
        """Navigators sign in with their name and password when the caseload store has any."""
        if caseload is None:
            return False
        try:
            return bool(caseload.navigators_list())
        except Exception:  # noqa: BLE001 - a database problem: fall back to the server token
            return False

    def session(request: Request) -> tuple[Session, Response | None]:
        """The caller's session (a new one if none), and a redirect to the login page when the
        server has a token (or navigator accounts) and the session has not signed in."""
        sess = sessions.get(request.cookies.get(COOKIE)) or sessions.new(authed=not (token or accounts()))
        if (token or accounts()) and not sess.authed:
            nxt = request.url.path if request.method == "GET" else "/client"
            resp = RedirectResponse(f"/login?next={quote(nxt)}", status_code=303)
            _set_cookie(request, resp, sess)
            return sess, resp
        return sess, None

    def check_csrf(request: Request, sess: Session, form) -> None:
        sent = form.get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), sess.csrf.encode()):
            raise ApiError(403, "This form has expired or did not come from this site. Go back, reload the page "
                                "and send it again.")
        origin = request.headers.get("origin")
        if origin and origin != "null":
            host = request.headers.get("host", "")
            if urlsplit(origin).netloc != host:
                raise ApiError(403, "This form was sent from another site.")

    async def read_form(request: Request, sess: Session, max_files: int = 0):
        try:
            form = await request.form(max_files=max_files, max_fields=60)
        except ApiError:
            raise
        except Exception as e:
            raise ApiError(400, "The form could not be read.") from e
        check_csrf(request, sess, form)
        return form

    # --- login ---
    @app.get("/", include_in_schema=False)
    def home(request: Request):
        return RedirectResponse("/client", status_code=303)

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, next: str = "/client"):
        need = bool(token or accounts())
        sess = sessions.get(request.cookies.get(COOKIE)) or sessions.new(authed=not need)
        if not need or sess.authed:
            return RedirectResponse(_safe_next(next), status_code=303)
        return page(request, sess, "login.html", title="Sign in", next=_safe_next(next), failed=False,
                    accounts=accounts())

    @app.post("/login", include_in_schema=False)
    async def login(request: Request):
        sess = sessions.get(request.cookies.get(COOKIE)) or sessions.new(authed=not token)
        form = await read_form(request, sess)
        nxt = _safe_next(form.get("next") if isinstance(form.get("next"), str) else None)
        use_accounts = accounts()
        if not (token or use_accounts):
            return RedirectResponse(nxt, status_code=303)
        addr = _client_addr(request)
        if sessions.login_blocked(addr):
            return page(request, sess, "login.html", status=429, title="Sign in", next=nxt, failed=True,
                        accounts=use_accounts, message="Too many failed sign-ins from this computer: wait 15 minutes.")
        who = ""
        if use_accounts:
            name, pw = form.get("name"), form.get("password")
            nav = (caseload.check_password(name, pw) if isinstance(name, str) and isinstance(pw, str) else None)
            ok, who = nav is not None, (nav.name if nav else "")
        else:
            given = form.get("token")
            ok = isinstance(given, str) and hmac.compare_digest(given.strip().encode(), token.encode())
        if ok:
            sessions.drop(sess.id)                 # a new session id once signed in
            new = sessions.new(authed=True)
            new.navigator = who
            resp = RedirectResponse(nxt, status_code=303)
            _set_cookie(request, resp, new)
            return resp
        sessions.login_failed(addr)
        return page(request, sess, "login.html", status=401, title="Sign in", next=nxt, failed=True,
                    accounts=use_accounts,
                    message="Wrong name or password." if use_accounts else "That is not the token of this server.")

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request):
        sess = sessions.get(request.cookies.get(COOKIE))
        if sess is not None:
            await read_form(request, sess)
            sessions.drop(sess.id)
            for jid in list(sess.jobs):
                try:
                    store.delete(jid)
                except ApiError:
                    pass
        resp = RedirectResponse("/login" if token else "/client", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    # --- client page ---
    def engine_for(values: dict):
        st = (values.get("state") or "").upper()
        return state_view(st) if (st and state_view is not None) else engine

    def client_view(values: dict, record: dict) -> dict:
        """Everything the client page shows for one intake (runs under the engine lock)."""
        engine = engine_for(values)
        a = engine.assess(record)
        row = a.row
        chosen = row.get("onet_code") or ""
        title_match = None
        if values.get("previous_title"):
            title_match = engine.normalize_title(values["previous_title"], language=values.get("language") or None,
                                                 country=values.get("country") or None)
        cred = engine.normalize_credential(values["credential"], values.get("country") or None) \
            if values.get("credential") else None
        candidates, seen = [], set()
        for c in (title_match.candidates if title_match else ())[:CANDIDATES_SHOWN]:
            seen.add(c.onet_code)
            candidates.append({"code": c.onet_code, "title": c.onet_title, "score": c.score,
                               "why": f"from the title, via '{c.matched_alias}'"})
        if cred is not None and cred.status != "no_match":
            for code, title in zip(cred.target_onet_codes, cred.target_onet_titles):
                if code not in seen:
                    seen.add(code)
                    candidates.append({"code": code, "title": title, "score": None, "why": "from the credential"})
        if chosen and chosen not in seen:
            candidates.insert(0, {"code": chosen, "title": row.get("onet_title", ""), "score": None,
                                  "why": row.get("occupation_source", "")})
        plan_markup, openings = None, None
        if a.plan is not None:
            from markupsafe import Markup

            from .render import _environment as plan_env
            from .render import plan_context

            ctx = plan_context(a.plan.to_dict())
            ctx.update(hoff=1, main_tag="div")
            plan_markup = Markup(plan_env().get_template("_plan.html").render(**ctx))
            if engine.openings is not None:
                openings = engine.plan_openings(a)
        return {"row": row, "title_match": title_match, "credential": cred, "candidates": candidates,
                "chosen": chosen, "plan_markup": plan_markup, "openings": openings, "has_plan": a.plan is not None}

    def client_form_ctx(values: dict | None = None) -> dict:
        from .credentials import _COUNTRY_NAMES
        from .language import LANGUAGE_NAMES

        countries = sorted(((c, n.split("|")[0].title()) for c, n in _COUNTRY_NAMES.items()), key=lambda x: x[1])
        return {"fields": FORM_FIELDS, "values": values or {}, "print_languages": list(langs().items()),
                "client_languages": sorted(((c, n) for c, n in LANGUAGE_NAMES.items() if c != "und"), key=lambda x: x[1]), "countries": countries,
                "work_auth": WORK_AUTH_CHOICES, "states": list(engine.pathways.licensing.states)}

    @app.get("/client", include_in_schema=False)
    def client_page(request: Request):
        sess, redirect = session(request)
        if redirect:
            return redirect
        return page(request, sess, "client.html", title="Client", view=None, problems=[], **client_form_ctx())

    @app.post("/client", include_in_schema=False)
    async def client_submit(request: Request):
        sess, redirect = session(request)
        if redirect:
            return redirect
        form = await read_form(request, sess)
        values, record, problems = _form_record(form)
        if problems:
            return page(request, sess, "client.html", status=400, title="Client", view=None, problems=problems,
                        **client_form_ctx(values))
        view = await run_in_threadpool(run, client_view, values, record)
        return page(request, sess, "client.html", title="Client", view=view, problems=[], **client_form_ctx(values))

    @app.post("/plan/print", include_in_schema=False)
    async def plan_print(request: Request):
        sess, redirect = session(request)
        if redirect:
            return redirect
        form = await read_form(request, sess)
        values, record, problems = _form_record(form)
        lang = form.get("print_lang") if isinstance(form.get("print_lang"), str) else "en"
        if lang not in langs():
            raise ApiError(400, "There is no printable plan in that language.")
        if problems:
            raise ApiError(400, "; ".join(problems))

        def go():
            eng = engine_for(values)
            a = eng.assess(record)
            if a.plan is None:
                raise InputError("No plan: no occupation could be chosen for this client. "
                                 + str(a.row.get("messages", ""))[:300])
            return engine.plan_html(a.plan, lang, stylesheet_href="/static/plan.css")

        html = await run_in_threadpool(run, go)
        resp = HTMLResponse(html)
        _set_cookie(request, resp, sess)
        return resp

    # --- batch page ---
    def job_of(sess: Session, jid: str):
        if jid not in sess.jobs:
            raise ApiError(404, "No such file in this session: it may have expired (finished files are kept "
                                "for an hour) or belong to another session.")
        try:
            return store.get(jid)
        except ApiError:
            sess.jobs.discard(jid)
            raise ApiError(404, "This file has expired: finished files are kept for an hour.") from None

    @app.get("/batch", include_in_schema=False)
    def batch_page(request: Request):
        sess, redirect = session(request)
        if redirect:
            return redirect
        jobs = []
        for jid in list(sess.jobs):
            try:
                jobs.append(store.get(jid))
            except ApiError:
                sess.jobs.discard(jid)
        jobs.sort(key=lambda j: j.created, reverse=True)
        return page(request, sess, "batch.html", title="Batch", jobs=jobs, suffixes=_suffixes(),
                    limit_mb=max_upload_bytes / (1024 * 1024), max_rows=store.max_rows, message=None)

    def _suffixes():
        from .api import UPLOAD_SUFFIXES

        return UPLOAD_SUFFIXES

    @app.post("/batch", include_in_schema=False)
    async def batch_upload(request: Request):
        sess, redirect = session(request)
        if redirect:
            return redirect
        form = await read_form(request, sess, max_files=1)
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise ApiError(400, "Choose an intake file to upload.")
        suffix = Path(upload.filename).suffix.lower()
        if suffix not in _suffixes():
            raise ApiError(400, f"The file must be one of {', '.join(_suffixes())}.")
        job = store.new()
        try:
            job.input = job.dir / f"input{suffix}"
            await run_in_threadpool(_save_upload, upload, job.input)
            job.label = upload.filename[:200]
        except BaseException:
            store.discard(job)
            raise
        finally:
            await form.close()
        sess.jobs.add(job.id)
        store.start(job)
        return RedirectResponse(f"/batch/{job.id}", status_code=303)

    @app.get("/batch/{job_id}", include_in_schema=False)
    def batch_job(request: Request, job_id: str):
        sess, redirect = session(request)
        if redirect:
            return redirect
        job = job_of(sess, job_id)
        summary = _summary(job) if job.status == "done" else None
        return page(request, sess, "batch_job.html", title="Batch file", job=job, summary=summary)

    @app.get("/batch/{job_id}/status", include_in_schema=False)
    def batch_status(request: Request, job_id: str):
        sess, redirect = session(request)
        if redirect:
            return JSONResponse({"error": {"code": "unauthorized", "message": "sign in again"}}, status_code=401)
        job = job_of(sess, job_id)
        return JSONResponse({"status": job.status, "rows_done": job.rows_done, "rows_total": job.rows_total,
                             "error": job.error})

    @app.get("/batch/{job_id}/download", include_in_schema=False)
    def batch_download(request: Request, job_id: str, format: str = "csv"):
        sess, redirect = session(request)
        if redirect:
            return redirect
        job = job_of(sess, job_id)
        if job.status != "done" or not job.result.exists():
            raise ApiError(409, f"The file is {job.status}, not scored yet.")
        stem = Path(job.label or "intake").stem[:80] or "intake"
        if format == "xlsx":
            xlsx = job.dir / "result.xlsx"
            if not xlsx.exists():
                from .io import read_table, write_table

                write_table(read_table(job.result), xlsx)
            return FileResponse(xlsx, filename=f"{stem}-scored.xlsx",
                                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        if format != "csv":
            raise ApiError(400, "Download as csv or xlsx.")
        return FileResponse(job.result, media_type="text/csv; charset=utf-8", filename=f"{stem}-scored.csv")

    @app.post("/batch/{job_id}/delete", include_in_schema=False)
    async def batch_delete(request: Request, job_id: str):
        sess, redirect = session(request)
        if redirect:
            return redirect
        await read_form(request, sess)
        job_of(sess, job_id)
        store.delete(job_id)
        sess.jobs.discard(job_id)
        return RedirectResponse("/batch", status_code=303)

    def _summary(job) -> dict:
        """Counts by status and the rows that need a look (computed once per finished job)."""
        if job.summary is not None:
            return job.summary
        from .io import open_table

        counts: dict[str, int] = {}
        problems: list[dict] = []
        n = 0
        for chunk in open_table(job.result, chunksize=50_000):
            status = chunk["status"] if "status" in chunk.columns else None
            for i in range(len(chunk)):
                n += 1
                s = str(status.iloc[i]) if status is not None else ""
                counts[s] = counts.get(s, 0) + 1
                if s != "ok" and len(problems) < MAX_PROBLEM_ROWS_SHOWN:
                    problems.append({"row": n, "client_id": str(chunk["client_id"].iloc[i])
                                     if "client_id" in chunk.columns else "",
                                     "status": s, "messages": str(chunk["messages"].iloc[i])
                                     if "messages" in chunk.columns else ""})
        out = {"rows": n, "counts": counts, "problems": problems,
               "more_problems": sum(v for k, v in counts.items() if k != "ok") - len(problems)}
        job.summary = out
        return out

    # --- opening page ---
    def openings_engine(sess: Session):
        return sess.workspace.get("engine") or (engine if engine.openings is not None else None)

    def openings_list(eng) -> list[dict]:
        if eng is None or eng.openings is None:
            return []
        o = eng.openings
        cols = [c for c in ("opening_id", "employer", "title", "onet_code") if c in o.columns]
        return [dict(zip(cols, map(str, r))) for r in o[cols].itertuples(index=False)]

    def openings_ctx(sess: Session, **kw) -> dict:
        eng = openings_engine(sess)
        ws = sess.workspace
        ctx = {"openings": openings_list(eng), "openings_source": ws.get("openings_name") or
               ("loaded at start-up" if engine.openings is not None else ""),
               "uploaded_openings": "engine" in ws, "intake_name": ws.get("intake_name"),
               "intake_rows": len(ws.get("records") or []), "intake_errors": ws.get("row_errors") or [],
               "selected": kw.pop("selected", ""), "result": None, "message": None, "limit": MAX_RANK_CLIENTS}
        ctx.update(kw)
        return ctx

    @app.get("/openings", include_in_schema=False)
    def openings_page(request: Request):
        sess, redirect = session(request)
        if redirect:
            return redirect
        return page(request, sess, "openings.html", title="Openings", **openings_ctx(sess))

    @app.post("/openings", include_in_schema=False)
    async def openings_submit(request: Request):
        sess, redirect = session(request)
        if redirect:
            return redirect
        form = await read_form(request, sess, max_files=2)
        try:
            ws = sess.workspace
            source = form.get("source") if isinstance(form.get("source"), str) else "loaded"
            of = form.get("openings_file")
            if source == "loaded" and "engine" in ws:
                ws.pop("engine", None)
                ws.pop("openings_name", None)
            if of is not None and not isinstance(of, str) and of.filename:
                eng = await run_in_threadpool(_load_openings, of)
                ws["engine"], ws["openings_name"] = eng, f"uploaded: {of.filename[:120]}"
            intake = form.get("intake")
            if intake is not None and not isinstance(intake, str) and intake.filename:
                records, row_errors = await run_in_threadpool(_read_intake, intake)
                ws["records"], ws["row_errors"], ws["intake_name"] = records, row_errors, intake.filename[:120]
        except MatcherError as e:
            return page(request, sess, "openings.html", status=400, title="Openings",
                        **openings_ctx(sess, message=str(e)[:500]))
        finally:
            await form.close()
        opening_id = form.get("opening_id") if isinstance(form.get("opening_id"), str) else ""
        action = form.get("action")
        if action != "rank":
            return page(request, sess, "openings.html", title="Openings", **openings_ctx(sess, selected=opening_id))
        eng = openings_engine(sess)
        if eng is None:
            return page(request, sess, "openings.html", status=400, title="Openings",
                        **openings_ctx(sess, message="No openings: upload an openings file."))
        if not ws.get("records"):
            return page(request, sess, "openings.html", status=400, title="Openings",
                        **openings_ctx(sess, selected=opening_id, message="Upload the intake file of the clients to rank."))
        if opening_id not in set(eng.openings["opening_id"].astype(str)):
            return page(request, sess, "openings.html", status=400, title="Openings",
                        **openings_ctx(sess, message="Choose one of the openings in the list."))
        result = await run_in_threadpool(run, _rank, eng, opening_id, ws["records"])
        return page(request, sess, "openings.html", title="Openings",
                    **openings_ctx(sess, selected=opening_id, result=result))

    # --- caseload pages ---
    def need_caseload():
        if caseload is None:
            raise ApiError(404, "This server has no caseload store (start it without --no-caseload).")

    def who(sess: Session) -> str:
        return sess.navigator or ("service" if token else "local")

    @app.post("/caseload/save", include_in_schema=False)
    async def caseload_save(request: Request):
        from .api import _plain as plain

        need_caseload()
        sess, redirect = session(request)
        if redirect:
            return redirect
        form = await read_form(request, sess)
        values, record, problems = _form_record(form)
        if problems:
            raise ApiError(400, "; ".join(problems))
        consent = form.get("consent_date") if isinstance(form.get("consent_date"), str) else ""
        import datetime

        try:
            consent_d = datetime.date.fromisoformat(consent) if consent else None
        except ValueError:
            raise ApiError(400, "Consent date: YYYY-MM-DD") from None
        intake = {k: v for k, v in record.items()}

        def go():
            eng = engine_for(values)
            a = eng.assess(record)
            return a

        a = await run_in_threadpool(run, go)
        cid = await run_in_threadpool(caseload.create_client, intake, plain(a.row),
                                      plain(a.plan.to_dict()) if a.plan else None, plain(engine.versions()),
                                      who(sess), consent_d, None, None)
        return RedirectResponse(f"/caseload/{cid}", status_code=303)

    @app.get("/caseload", include_in_schema=False)
    def caseload_page(request: Request, navigator: str = "", status: str = "", overdue: str = "",
                      as_of: str = ""):
        need_caseload()
        sess, redirect = session(request)
        if redirect:
            return redirect
        import datetime

        try:
            as_of_d = datetime.date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise ApiError(400, "As of: YYYY-MM-DD") from None
        total, items = caseload.list(navigator=navigator[:100] or None, status=status[:20] or None,
                                     overdue=True if overdue == "yes" else (False if overdue == "no" else None),
                                     limit=500, as_of=as_of_d)
        navs = [n.name for n in caseload.navigators_list()]
        return page(request, sess, "caseload.html", title="Caseload", items=items, total=total, navs=navs,
                    f={"navigator": navigator, "status": status, "overdue": overdue, "as_of": as_of})

    @app.get("/caseload/{client_id}", include_in_schema=False)
    def caseload_client(request: Request, client_id: str):
        need_caseload()
        sess, redirect = session(request)
        if redirect:
            return redirect
        from .store import StoreError

        try:
            c = caseload.get(client_id[:64], by=who(sess))
        except StoreError:
            raise ApiError(404, "No client with this id (it may have been deleted).") from None
        from .store import EVENTS

        return page(request, sess, "caseload_client.html", title="Client history", c=c, events=EVENTS,
                    audit=caseload.audit_trail(c["id"]))

    @app.post("/caseload/{client_id}/events", include_in_schema=False)
    async def caseload_event(request: Request, client_id: str):
        need_caseload()
        sess, redirect = session(request)
        if redirect:
            return redirect
        form = await read_form(request, sess)
        import datetime

        def f(name):
            v = form.get(name)
            return v.strip() if isinstance(v, str) else ""

        try:
            when = datetime.date.fromisoformat(f("date"))
            wage = float(f("hourly_wage")) if f("hourly_wage") else None
            amount = float(f("amount_usd").replace(",", "")) if f("amount_usd") else None
        except ValueError:
            raise ApiError(400, "Date: YYYY-MM-DD; wage and amount: numbers.") from None
        from .store import StoreError

        try:
            caseload.add_event(client_id[:64], f("event"), when, who(sess), occupation=f("occupation"),
                               hourly_wage=wage, amount_usd=amount, note=f("note"))
        except StoreError:
            raise ApiError(404, "No client with this id.") from None
        return RedirectResponse(f"/caseload/{client_id}", status_code=303)

    @app.post("/caseload/{client_id}/replan", include_in_schema=False)
    async def caseload_replan(request: Request, client_id: str):
        from .api import _plain as plain

        need_caseload()
        sess, redirect = session(request)
        if redirect:
            return redirect
        await read_form(request, sess)
        from .store import StoreError

        try:
            intake = caseload.intake(client_id[:64])
            a = await run_in_threadpool(run, engine.assess, intake)
            caseload.replan(client_id[:64], plain(a.row), plain(a.plan.to_dict()) if a.plan else None,
                            plain(engine.versions()), who(sess))
        except StoreError:
            raise ApiError(404, "No client with this id (it may have been deleted).") from None
        return RedirectResponse(f"/caseload/{client_id}", status_code=303)

    @app.post("/caseload/{client_id}/delete", include_in_schema=False)
    async def caseload_delete(request: Request, client_id: str):
        need_caseload()
        sess, redirect = session(request)
        if redirect:
            return redirect
        await read_form(request, sess)
        from .store import StoreError

        try:
            await run_in_threadpool(caseload.delete_client, client_id[:64], who(sess))
        except StoreError:
            raise ApiError(404, "No client with this id (it may have been deleted).") from None
        return RedirectResponse("/caseload", status_code=303)

    @app.get("/caseload-report", include_in_schema=False)
    def caseload_report(request: Request, as_of: str = ""):
        need_caseload()
        sess, redirect = session(request)
        if redirect:
            return redirect
        import datetime

        from .report import ReportConfig, build_report, report_html

        scored, outcomes = caseload.scored_frame()
        if not len(scored):
            raise ApiError(400, "The caseload is empty: save a client first.")
        try:
            cfg = ReportConfig(as_of=datetime.date.fromisoformat(as_of) if as_of else None)
        except ValueError:
            raise ApiError(400, "As of: YYYY-MM-DD") from None
        with lock:
            rep = build_report(scored, outcomes, cfg, taxonomy=engine.taxonomy)
        resp = HTMLResponse(report_html(rep, stylesheet_href="/static/report.css"))
        _set_cookie(request, resp, sess)
        return resp

    # --- report page ---
    @app.get("/report", include_in_schema=False)
    def report_page(request: Request):
        sess, redirect = session(request)
        if redirect:
            return redirect
        return page(request, sess, "report_form.html", title="Report", message=None)

    @app.post("/report", include_in_schema=False)
    async def report_submit(request: Request):
        sess, redirect = session(request)
        if redirect:
            return redirect
        form = await read_form(request, sess, max_files=2)
        try:
            scored = form.get("scored")
            if scored is None or isinstance(scored, str) or not scored.filename:
                raise InputError("Choose a scored file (the output of the batch page or of matcher score).")
            outcomes = form.get("outcomes")
            has_outcomes = outcomes is not None and not isinstance(outcomes, str) and bool(outcomes.filename)
            html = await run_in_threadpool(_report, scored, outcomes if has_outcomes else None, form)
        except MatcherError as e:
            return page(request, sess, "report_form.html", status=400, title="Report", message=str(e)[:500])
        finally:
            await form.close()
        resp = HTMLResponse(html)
        _set_cookie(request, resp, sess)
        return resp

    def _report(scored, outcomes, form) -> str:
        import datetime

        from .io import read_table
        from .report import ReportConfig, build_report, report_html

        def number(name, default):
            v = form.get(name)
            if not isinstance(v, str) or not v.strip():
                return default
            try:
                return float(v.replace(",", "").replace("$", ""))
            except ValueError:
                raise InputError(f"{name.replace('_', ' ')}: not a number") from None

        as_of = form.get("as_of") if isinstance(form.get("as_of"), str) else ""
        try:
            as_of_date = datetime.date.fromisoformat(as_of) if as_of.strip() else None
        except ValueError:
            raise InputError("As of: a date YYYY-MM-DD") from None
        rate = number("repayment_rate", 90.0)
        cfg = ReportConfig(fund_capital=number("fund_capital", 120_000.0), repayment_rate=rate / 100.0,
                           intake_per_month=number("intake_per_month", None), as_of=as_of_date)
        frames = []
        for up, reserved in ((scored, False), (outcomes, True)):
            if up is None:
                frames.append(None)
                continue
            suffix = Path(up.filename).suffix.lower()
            if suffix not in _suffixes():
                raise InputError(f"The file must be one of {', '.join(_suffixes())}.")
            p = _private_copy(up, suffix)
            try:
                frames.append(read_table(p, reserved=reserved))
            finally:
                shutil.rmtree(p.parent, ignore_errors=True)
        with lock:
            report = build_report(frames[0], frames[1], cfg, taxonomy=engine.taxonomy)
        return report_html(report, stylesheet_href="/static/report.css")

    def _rank(eng, opening_id: str, records: list[dict]) -> dict:
        assessed = eng.assess_many(records)
        ranked = eng.rank_clients(opening_id, assessed, top=len(assessed))
        ranked_ids = {m.client_id for m in ranked}
        unranked = [{"client_id": a.row.get("client_id") or r.get("client_id", ""),
                     "status": a.row.get("status", ""), "messages": a.row.get("messages", "")}
                    for r, a in zip(records, assessed) if a.profile is None]
        o = eng.openings
        opening = {k: str(v) for k, v in o[o["opening_id"].astype(str) == opening_id].iloc[0].items()
                   if k in ("opening_id", "employer", "title", "onet_code", "onet_title", "city", "state", "zip",
                            "wage_min", "wage_max", "wage_unit", "required_licenses", "english_level")}
        return {"opening": opening, "ranked": ranked, "unranked": unranked,
                "missing": len(records) - len(ranked) - len(unranked), "ranked_ids": ranked_ids}

    def _private_copy(upload, suffix: str) -> Path:
        d = Path(tempfile.mkdtemp(prefix="matcher-web-", dir=store.base))
        p = d / f"upload{suffix}"
        _save_upload(upload, p)
        return p

    def _read_intake(upload) -> tuple[list[dict], list]:
        from .io import open_table

        suffix = Path(upload.filename).suffix.lower()
        if suffix not in _suffixes():
            raise InputError(f"The intake file must be one of {', '.join(_suffixes())}.")
        p = _private_copy(upload, suffix)
        try:
            records, errors = [], []
            for chunk in open_table(p, chunksize=10_000):
                for rec in chunk.to_dict("records"):
                    line, err = rec.pop("__line__", ""), rec.pop("__error__", "")
                    if err:
                        errors.append({"line": line, "error": str(err)[:300]})
                        continue
                    records.append(rec)
                    if len(records) > MAX_RANK_CLIENTS:
                        raise InputError(f"The intake file has more than {MAX_RANK_CLIENTS:,} clients: rank them "
                                         f"with 'matcher score' or split the file.")
            if not records:
                raise InputError("The intake file has no client rows.")
            return records, errors
        finally:
            shutil.rmtree(p.parent, ignore_errors=True)

    def _load_openings(upload):
        from .io import read_table

        suffix = Path(upload.filename).suffix.lower()
        if suffix not in _suffixes():
            raise InputError(f"The openings file must be one of {', '.join(_suffixes())}.")
        p = _private_copy(upload, suffix)
        try:
            df = read_table(p)
        finally:
            shutil.rmtree(p.parent, ignore_errors=True)
        if len(df) > MAX_UPLOADED_OPENINGS:
            raise InputError(f"The openings file has more than {MAX_UPLOADED_OPENINGS:,} openings.")
        with lock:
            return engine.with_openings(df)



def _save_upload(upload, dest: Path) -> None:
    """Copy an uploaded file (a spooled temporary file) to a new private file."""
    upload.file.seek(0)
    with open(dest, "xb") as out:
        try:
            dest.chmod(0o600)
        except OSError:
            pass
        shutil.copyfileobj(upload.file, out, length=1024 * 1024)
