"""The caseload store: clients, their plans as computed, outcome events, navigators, an audit trail.

    store = Store.open()                          # MATCHER_DATABASE_URL, else SQLite in the user's data folder
    nav = store.add_navigator("amina", password)  # -> (Navigator, its API token, shown once)
    c = store.create_client(intake, plan_row, plan_dict, versions, by="amina", consent_date=date.today())
    store.add_event(c.id, "hired", date(...), by="amina", occupation="31-1131.00", hourly_wage=17.5)
    store.delete_client(c.id, by="amina")         # every row about the client, no readable copy (SQLite)

SQLAlchemy (SQLite by default, PostgreSQL through ``MATCHER_DATABASE_URL``) with Alembic
migrations (``matcher/migrations``), applied on open.  Only what the navigator enters is stored;
names and notes never go to a log; the audit trail records who did what to which client id, never
the values.  Passwords are hashed with scrypt (hashlib); API tokens are stored as SHA-256 digests.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from .errors import InputError, MatcherError

__all__ = ["Store", "default_database_url", "EVENTS", "StoreError"]

EVENTS = ("exam_passed", "licence_obtained", "hired", "loan_drawn", "loan_repaid", "left_programme")
EVENT_ALIASES = {"license_obtained": "licence_obtained"}
DEFAULT_RETENTION_DAYS = 3 * 365          # a client's record is kept this long after consent unless set
OVERDUE_GRACE_DAYS = 30                   # as in the impact report: a month past the planned month
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 32}
NAME_MAX = 100


class StoreError(MatcherError):
    """A caseload store problem (connection, migration, a missing client)."""


def default_database_url() -> str:
    """``MATCHER_DATABASE_URL``, else a SQLite file in the user's data folder (created on first use)."""
    url = os.environ.get("MATCHER_DATABASE_URL", "").strip()
    if url:
        return url
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "matcher"
    return f"sqlite:///{base / 'caseload.db'}"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    dk = hashlib.scrypt(password.encode("utf-8"), salt=salt, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${dk.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, dk = stored.split("$")
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(bytes.fromhex(dk)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, bytes.fromhex(dk))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- schema -------------------------------------------------------------------------------------
def _tables(metadata):
    from sqlalchemy import (Boolean, Column, Date, DateTime, Float, ForeignKey, Integer, String, Table, Text)

    navigators = Table("navigators", metadata,
                       Column("id", Integer, primary_key=True),
                       Column("name", String(NAME_MAX), nullable=False, unique=True),
                       Column("password_hash", String(300), nullable=False),
                       Column("token_digest", String(64), unique=True),
                       Column("active", Boolean, nullable=False, default=True),
                       Column("created_at", DateTime, nullable=False))
    clients = Table("clients", metadata,
                    Column("id", String(32), primary_key=True),
                    Column("client_ref", String(100), nullable=False, default=""),
                    Column("navigator", String(NAME_MAX), nullable=False),
                    Column("intake", Text, nullable=False),
                    Column("intake_date", Date, nullable=False),
                    Column("consent_date", Date),
                    Column("retain_until", Date, nullable=False),
                    Column("created_at", DateTime, nullable=False),
                    Column("updated_at", DateTime, nullable=False))
    plans = Table("plans", metadata,
                  Column("id", Integer, primary_key=True),
                  Column("client_id", String(32), ForeignKey("clients.id", ondelete="CASCADE"), nullable=False,
                         index=True),
                  Column("created_at", DateTime, nullable=False),
                  Column("created_by", String(NAME_MAX), nullable=False),
                  Column("current", Boolean, nullable=False),
                  Column("versions", Text, nullable=False),
                  Column("row", Text, nullable=False),
                  Column("plan", Text))
    events = Table("events", metadata,
                   Column("id", Integer, primary_key=True),
                   Column("client_id", String(32), ForeignKey("clients.id", ondelete="CASCADE"), nullable=False,
                          index=True),
                   Column("event", String(30), nullable=False),
                   Column("date", Date, nullable=False),
                   Column("occupation", String(20), nullable=False, default=""),
                   Column("hourly_wage", Float),
                   Column("amount_usd", Float),
                   Column("note", Text, nullable=False, default=""),
                   Column("recorded_by", String(NAME_MAX), nullable=False),
                   Column("recorded_at", DateTime, nullable=False))
    audit = Table("audit", metadata,
                  Column("id", Integer, primary_key=True),
                  Column("at", DateTime, nullable=False),
                  Column("actor", String(NAME_MAX), nullable=False),
                  Column("action", String(40), nullable=False),
                  Column("client_id", String(32), nullable=False, default=""))
    return navigators, clients, plans, events, audit


@dataclass(frozen=True)
class Navigator:
    id: int
    name: str
    active: bool


class Store:
    """One database.  ``Store.open(url)`` connects and migrates; every method is one transaction."""

    def __init__(self, url: str):
        from sqlalchemy import MetaData, create_engine, event

        self.url = url
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            path = Path(url[len("sqlite:///"):])
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.touch(mode=0o600)
        self.engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn, _):
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA secure_delete=ON")      # deleted content is overwritten with zeros
                cur.close()
        self.metadata = MetaData()
        self.navigators, self.clients, self.plans, self.events, self.audit = _tables(self.metadata)

    @classmethod
    def open(cls, url: str | None = None, migrate: bool = True) -> "Store":
        store = cls(url or default_database_url())
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> None:
        """Bring the database to the newest schema (Alembic, ``matcher/migrations``)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).resolve().parent / "migrations"))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except Exception as e:  # noqa: BLE001 - one clear line: the URL's password is never shown
            raise StoreError(f"cannot open the caseload database ({type(e).__name__}): check MATCHER_DATABASE_URL") \
                from e

    def close(self) -> None:
        self.engine.dispose()

    # --- navigators ---
    def add_navigator(self, name: str, password: str) -> tuple[Navigator, str]:
        """A new navigator; returns it and its API token (shown once; only its digest is stored)."""
        name = (name or "").strip()
        if not name or len(name) > NAME_MAX or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise InputError("a navigator name is 1-100 letters, digits, '.', '-' or '_'")
        if len(password or "") < 10:
            raise InputError("a password has at least 10 characters")
        token = secrets.token_urlsafe(32)
        from sqlalchemy.exc import IntegrityError

        try:
            with self.engine.begin() as c:
                r = c.execute(self.navigators.insert().values(name=name, password_hash=hash_password(password),
                                                              token_digest=token_digest(token), active=True,
                                                              created_at=_now()))
                self._audit(c, "system", "add_navigator")
        except IntegrityError:
            raise InputError(f"a navigator named {name!r} already exists") from None
        return Navigator(int(r.inserted_primary_key[0]), name, True), token

    def navigators_list(self) -> list[Navigator]:
        with self.engine.connect() as c:
            return [Navigator(r.id, r.name, r.active) for r in c.execute(self.navigators.select().order_by("name"))]

    def check_password(self, name: str, password: str) -> Navigator | None:
        with self.engine.connect() as c:
            r = c.execute(self.navigators.select().where(self.navigators.c.name == (name or "").strip())).first()
        if r is None or not r.active:
            hash_password("spend the same time")    # no hint from timing that the name does not exist
            return None
        return Navigator(r.id, r.name, r.active) if verify_password(password or "", r.password_hash) else None

    def token_owner(self, token: str) -> str | None:
        with self.engine.connect() as c:
            r = c.execute(self.navigators.select().where(self.navigators.c.token_digest == token_digest(token))).first()
        return r.name if r is not None and r.active else None

    # --- clients ---
    def create_client(self, intake: dict, row: dict, plan: dict | None, versions: dict, by: str,
                      consent_date: date | None = None, retention_days: int | None = None,
                      intake_date: date | None = None) -> str:
        cid = uuid.uuid4().hex
        today = date.today()
        consent = consent_date
        keep = (consent or today) + timedelta(days=retention_days or DEFAULT_RETENTION_DAYS)
        with self.engine.begin() as c:
            c.execute(self.clients.insert().values(
                id=cid, client_ref=str(intake.get("client_id") or "")[:100], navigator=by,
                intake=json.dumps(intake, ensure_ascii=False), intake_date=intake_date or today,
                consent_date=consent, retain_until=keep, created_at=_now(), updated_at=_now()))
            self._add_plan(c, cid, row, plan, versions, by)
            self._audit(c, by, "create_client", cid)
        return cid

    def _add_plan(self, c, cid: str, row: dict, plan: dict | None, versions: dict, by: str) -> None:
        c.execute(self.plans.update().where(self.plans.c.client_id == cid).values(current=False))
        c.execute(self.plans.insert().values(client_id=cid, created_at=_now(), created_by=by, current=True,
                                             versions=json.dumps(versions, default=str),
                                             row=json.dumps(row, ensure_ascii=False, default=str),
                                             plan=json.dumps(plan, ensure_ascii=False, default=str) if plan else None))

    def replan(self, cid: str, row: dict, plan: dict | None, versions: dict, by: str) -> None:
        """A new current plan (today's data); the old ones are kept."""
        self._need(cid)
        with self.engine.begin() as c:
            self._add_plan(c, cid, row, plan, versions, by)
            c.execute(self.clients.update().where(self.clients.c.id == cid).values(updated_at=_now()))
            self._audit(c, by, "replan", cid)

    def intake(self, cid: str) -> dict:
        return json.loads(self._need(cid).intake)

    def _need(self, cid: str):
        with self.engine.connect() as c:
            r = c.execute(self.clients.select().where(self.clients.c.id == str(cid))).first()
        if r is None:
            raise StoreError("no client with this id")
        return r

    def add_event(self, cid: str, event: str, when: date, by: str, occupation: str = "",
                  hourly_wage: float | None = None, amount_usd: float | None = None, note: str = "") -> int:
        event = EVENT_ALIASES.get((event or "").strip().lower(), (event or "").strip().lower())
        if event not in EVENTS:
            raise InputError(f"event must be one of {', '.join(EVENTS)}")
        if event == "hired" and hourly_wage is not None and not (0 < hourly_wage < 1000):
            raise InputError("hourly_wage must be between 0 and 1000")
        if event in ("loan_drawn", "loan_repaid") and (amount_usd is None or not (0 < amount_usd <= 1_000_000)):
            raise InputError(f"{event} needs amount_usd (more than 0)")
        self._need(cid)
        with self.engine.begin() as c:
            r = c.execute(self.events.insert().values(client_id=cid, event=event, date=when,
                                                      occupation=(occupation or "")[:20], hourly_wage=hourly_wage,
                                                      amount_usd=amount_usd, note=(note or "")[:2000],
                                                      recorded_by=by, recorded_at=_now()))
            self._audit(c, by, f"add_event:{event}", cid)
        return int(r.inserted_primary_key[0])

    def get(self, cid: str, by: str | None = None) -> dict:
        """Everything about one client: intake, plans (newest first), events, status."""
        r = self._need(cid)
        with self.engine.connect() as c:
            plans = c.execute(self.plans.select().where(self.plans.c.client_id == cid)
                              .order_by(self.plans.c.id.desc())).all()
            events = c.execute(self.events.select().where(self.events.c.client_id == cid)
                               .order_by(self.events.c.date, self.events.c.id)).all()
        out = {"id": r.id, "client_ref": r.client_ref, "navigator": r.navigator, "intake": json.loads(r.intake),
               "intake_date": r.intake_date.isoformat(), "consent_date": r.consent_date.isoformat() if r.consent_date else None,
               "retain_until": r.retain_until.isoformat(), "created_at": r.created_at.isoformat(),
               "plans": [{"id": p.id, "created_at": p.created_at.isoformat(), "created_by": p.created_by,
                          "current": bool(p.current), "versions": json.loads(p.versions), "row": json.loads(p.row),
                          "plan": json.loads(p.plan) if p.plan else None} for p in plans],
               "events": [{"id": e.id, "event": e.event, "date": e.date.isoformat(), "occupation": e.occupation,
                           "hourly_wage": e.hourly_wage, "amount_usd": e.amount_usd, "note": e.note,
                           "recorded_by": e.recorded_by, "recorded_at": e.recorded_at.isoformat()} for e in events]}
        out["status"] = status_of(out)
        if by:
            with self.engine.begin() as c:
                self._audit(c, by, "read_client", cid)
        return out

    def list(self, navigator: str | None = None, status: str | None = None, overdue: bool | None = None,
             offset: int = 0, limit: int = 50, as_of: date | None = None) -> tuple[int, list[dict]]:
        """Clients with their next step and whether they are on time (filters), newest first."""
        q = self.clients.select().order_by(self.clients.c.created_at.desc(), self.clients.c.id)
        if navigator:
            q = q.where(self.clients.c.navigator == navigator)
        with self.engine.connect() as c:
            rows = c.execute(q).all()
        out = []
        for r in rows:
            full = self.get(r.id)
            st = status_of(full, as_of)
            if status and st["state"] != status:
                continue
            if overdue is not None and bool(st["overdue"]) != overdue:
                continue
            cur = next((p for p in full["plans"] if p["current"]), None)
            out.append({"id": r.id, "client_ref": r.client_ref, "navigator": r.navigator,
                        "occupation": (cur or {}).get("row", {}).get("onet_title", ""),
                        "route": (cur or {}).get("row", {}).get("plan_route_kind", ""),
                        "intake_date": r.intake_date.isoformat(), **st})
        return len(out), out[offset:offset + limit]

    def delete_client(self, cid: str, by: str) -> None:
        """Remove every row about the client (plans and events cascade); on SQLite the freed pages
        are zeroed (secure_delete) and the file is vacuumed, so no readable copy stays in it; on
        PostgreSQL the tables are vacuumed (VACUUM FULL rewrites them without the dead rows)."""
        self._need(cid)
        with self.engine.begin() as c:
            c.execute(self.events.delete().where(self.events.c.client_id == cid))
            c.execute(self.plans.delete().where(self.plans.c.client_id == cid))
            c.execute(self.clients.delete().where(self.clients.c.id == cid))
            self._audit(c, by, "delete_client", cid)
        self._vacuum()

    def _vacuum(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            from sqlalchemy import text

            if self.engine.dialect.name == "sqlite":
                c.execute(text("VACUUM"))
            elif self.engine.dialect.name == "postgresql":
                c.execute(text("VACUUM FULL events, plans, clients"))

    def past_retention(self, as_of: date | None = None) -> list[str]:
        with self.engine.connect() as c:
            rows = c.execute(self.clients.select().where(self.clients.c.retain_until < (as_of or date.today()))).all()
        return [r.id for r in rows]

    def purge(self, as_of: date | None = None, by: str = "system") -> list[str]:
        ids = self.past_retention(as_of)
        for cid in ids:
            self.delete_client(cid, by)
        return ids

    def _audit(self, c, actor: str, action: str, cid: str = "") -> None:
        c.execute(self.audit.insert().values(at=_now(), actor=actor, action=action, client_id=cid))

    def audit_trail(self, cid: str | None = None) -> list[dict]:
        q = self.audit.select().order_by(self.audit.c.id)
        if cid:
            q = q.where(self.audit.c.client_id == cid)
        with self.engine.connect() as c:
            return [{"at": r.at.isoformat(), "actor": r.actor, "action": r.action, "client_id": r.client_id}
                    for r in c.execute(q)]

    # --- for the impact report ---
    def scored_frame(self):
        """The current plans as a scored file (intake_date included) and the events as outcomes."""
        import pandas as pd

        with self.engine.connect() as c:
            cl = {r.id: r for r in c.execute(self.clients.select())}
            plans = c.execute(self.plans.select().where(self.plans.c.current.is_(True))).all()
            evs = c.execute(self.events.select()).all()
        rows = []
        for p in plans:
            row = json.loads(p.row)
            row["client_id"] = p.client_id
            row["intake_date"] = cl[p.client_id].intake_date.isoformat()
            rows.append(row)
        scored = pd.DataFrame(rows).astype(object).fillna("").astype(str) if rows else pd.DataFrame(
            columns=["client_id", "status"])
        outcomes = pd.DataFrame([{"client_id": e.client_id, "date": e.date.isoformat(), "event": e.event,
                                  "occupation": e.occupation, "hourly_wage": "" if e.hourly_wage is None else e.hourly_wage,
                                  "amount_usd": "" if e.amount_usd is None else e.amount_usd} for e in evs],
                                columns=["client_id", "date", "event", "occupation", "hourly_wage", "amount_usd"])
        return scored, outcomes


def status_of(client: dict, as_of: date | None = None) -> dict:
    """The client's next step and whether it is overdue against the current plan."""
    as_of = as_of or date.today()
    cur = next((p for p in client["plans"] if p["current"]), None)
    evs = {e["event"]: e for e in client["events"]}
    if "left_programme" in evs:
        return {"state": "left", "next_step": "", "due": None, "overdue": False}
    row = (cur or {}).get("row") or {}
    start = date.fromisoformat(client["intake_date"])
    steps = []
    try:
        if row.get("plan_route_kind") == "relicensure" and row.get("plan_months_to_route") not in ("", None):
            steps.append(("licence", "licence_obtained", float(row["plan_months_to_route"])))
        if row.get("plan_months_to_first_paycheck") not in ("", None):
            steps.append(("first job", "hired", float(row["plan_months_to_first_paycheck"])))
    except (TypeError, ValueError):
        pass
    pending = [(name, start + timedelta(days=round(m * 30.44))) for name, ev, m in steps if ev not in evs]
    if not cur or row.get("status") == "error":
        return {"state": "no plan", "next_step": "", "due": None, "overdue": False}
    if not pending:
        return {"state": "done", "next_step": "", "due": None, "overdue": False}
    name, due = min(pending, key=lambda x: x[1])
    late = as_of > due + timedelta(days=OVERDUE_GRACE_DAYS)
    return {"state": "overdue" if late else "on time", "next_step": name, "due": due.isoformat(), "overdue": late}
