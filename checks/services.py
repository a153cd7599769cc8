"""Writes: every change to checks, pings and flips goes through these functions.

Keyword-only arguments, one transaction each; views, forms, tasks and commands
call them and hold no rules of their own.
"""

from __future__ import annotations

import functools
import logging
import operator
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.db import (
    DEFAULT_DB_ALIAS,
    Error,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import F, Field, Model, Q, QuerySet, Value
from django.db.models.base import ModelState
from django.db.models.functions import Coalesce

from checks import alerts, ratelimit, schedule
from checks.models import (
    ApiKey,
    Channel,
    Check,
    DeliveryState,
    Flip,
    Notification,
    Ping,
    PingKind,
    Profile,
    Project,
    Reason,
    RetiredSlug,
    Status,
    key_digest,
    new_ping_key,
)
from integrations import email_links

log = logging.getLogger(__name__)

# Prune a check's ping log after every this many pings, in the ping's transaction.
PRUNE_EVERY = 100
# Check.slug's column width: longer slugs can match nothing and create nothing.
SLUG_MAX_LENGTH = 100
# Start and finish pings further apart than this are not one run (ping log durations).
MAX_DURATION = timedelta(hours=72)


@dataclass(frozen=True)
class PingData:
    """What a client sent: the requested action and the request's details."""

    action: PingKind = PingKind.SUCCESS
    exitstatus: int | None = None
    rid: uuid.UUID | None = None
    scheme: str = "http"
    remote_addr: str | None = None
    method: str = "GET"
    ua: str = ""
    body: bytes = b""
    # Email pings classify by subject/body filters instead of the HTTP body filter.
    email_subject: str | None = None
    email_text: str | None = None


def match_keywords(text: str, keywords: str) -> bool:
    """True if any comma-separated keyword is a (case-sensitive) substring of text."""
    return any(kw and kw in text for kw in (k.strip() for k in keywords.split(",")))


def _classify_text(check: Check, text: str) -> PingKind:
    if match_keywords(text, check.failure_kw):
        return PingKind.FAIL
    if match_keywords(text, check.success_kw):
        return PingKind.SUCCESS
    if match_keywords(text, check.start_kw):
        return PingKind.START
    return PingKind.FAIL if check.filter_default_fail else PingKind.IGNORED


def classify(check: Check, ping: PingData) -> PingKind:
    """The action a ping takes on this check (spec 2.2, 2.3, 2.6 precedence)."""
    if check.status == Status.PAUSED and check.manual_resume:
        return PingKind.IGNORED
    action = ping.action
    if ping.exitstatus is not None and ping.exitstatus > 0:
        action = PingKind.FAIL
    if ping.email_subject is None:
        if check.methods == "POST" and ping.method != "POST":
            return PingKind.IGNORED
        if check.filter_http_body:
            # Invalid UTF-8 is read leniently: upstream answers 500 here.
            return _classify_text(check, ping.body.decode(errors="replace"))
        return action
    texts = []
    if check.filter_subject:
        texts.append(ping.email_subject)
    if check.filter_body and ping.email_text is not None:
        texts.append(ping.email_text)
    if texts:
        return _classify_text(check, "\n".join(texts))
    return action


def _apply_ping(
    check: Check, kind: PingKind, ping: PingData, now: datetime
) -> Flip | None:
    """Update the locked check in memory for one ping; the flip to insert, if any."""
    flip = None
    if kind == PingKind.START:
        check.last_start = now
        check.last_start_rid = ping.rid
    elif kind in (PingKind.SUCCESS, PingKind.FAIL):
        check.last_ping = now
        check.last_duration = None
        if check.last_start is not None:
            if check.last_start_rid == ping.rid:
                # The finish of the run that started (both rids may be None).
                check.last_duration = now - check.last_start
                check.last_start = None
                check.last_start_rid = None
            elif kind == PingKind.FAIL or ping.rid is None:
                check.last_start = None
                check.last_start_rid = None
            # else: a success of another run; the started one is still going.
        new_status = Status.DOWN if kind == PingKind.FAIL else Status.UP
        if check.status != new_status:
            reason = Reason.FAIL if kind == PingKind.FAIL else Reason.NONE
            flip = Flip(
                owner=check,
                created=now,
                old_status=check.status,
                new_status=new_status,
                reason=reason,
            )
            check.status = new_status
    check.n_pings += 1
    check.has_confirmation_link = b"confirm" in ping.body.lower()
    check.alert_after = schedule.going_down_after(check)
    return flip


PING_UPDATE_FIELDS = [
    "last_start",
    "last_start_rid",
    "last_ping",
    "last_duration",
    "status",
    "n_pings",
    "has_confirmation_link",
    "alert_after",
]


def _prepare(check: Check, ping: PingData, now: datetime) -> tuple[Flip | None, Ping]:
    """Apply one ping to the locked check in memory: the flip and the ping to insert."""
    kind = classify(check, ping)
    flip = _apply_ping(check, kind, ping, now)
    saved = Ping(
        owner=check,
        n=check.n_pings,
        created=now,
        kind=kind,
        scheme=ping.scheme,
        remote_addr=ping.remote_addr,
        method=ping.method,
        ua=ping.ua,
        body=ping.body or None,
        exitstatus=ping.exitstatus,
        rid=ping.rid,
    )
    return flip, saved


def record_ping(*, check: Check, ping: PingData, now: datetime) -> PingKind:
    """Apply one ping to a check locked by the caller's transaction and log it.

    Returns the kind the ping was logged as.
    """
    flip, saved = _prepare(check, ping, now)
    statements, params = _writes(check, flip, saved)
    with connection.cursor() as cursor:
        for statement, values in zip(statements, params, strict=True):
            cursor.execute(statement, values)
    return PingKind(saved.kind)


# --- the ping path's SQL, built once --------------------------------------------------
# Compiling ORM queries costs more CPU per ping than PostgreSQL spends on the whole
# transaction (docs/performance.md), so the statements of a ping are built once per
# database vendor from the models' metadata. The locked row becomes a Check through
# the ORM's converters (_check_from_row); a single ping's values go through each
# field's get_db_prep_save(), a batch's are taken as they are (see _ping_row).
#
# On PostgreSQL, outside a caller's transaction, a ping is two round trips:
# `BEGIN; SELECT ... FOR UPDATE`, then `UPDATE ...; [INSERT flip;] INSERT ping;
# [DELETE the pings beyond the log limit, every PRUNE_EVERY pings;] COMMIT`
# sent as one string. Same statements, same row lock and the same transaction as
# `transaction.atomic()` would give, without four of its six round trips. Elsewhere
# (SQLite, or inside an atomic block) each statement is its own round trip.

_PING_UPDATE = tuple(PING_UPDATE_FIELDS)
_PING_INSERT_FIELDS = tuple(
    f.name for f in Ping._meta.concrete_fields if not f.primary_key
)
_FLIP_INSERT_FIELDS = tuple(
    f.name for f in Flip._meta.concrete_fields if not f.primary_key
)


@functools.cache
def _concrete_fields(model: type[Model], names: tuple[str, ...]) -> list[Field]:
    """The named column fields (`_meta.get_field` may also return a relation)."""
    by_name = {f.name: f for f in model._meta.concrete_fields}
    return [by_name[name] for name in names]


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _columns(model: type[Model], alias: str = "") -> str:
    prefix = f"{_qn(alias)}." if alias else ""
    return ", ".join(prefix + _qn(f.column) for f in model._meta.concrete_fields)


def _insert_sql(model: type[Model], names: tuple[str, ...]) -> str:
    columns = ", ".join(_qn(f.column) for f in _concrete_fields(model, names))
    placeholders = ", ".join(["%s"] * len(names))
    return (
        f"INSERT INTO {_qn(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    )


@functools.cache
def _ping_sql(vendor: str) -> dict[str, str]:
    """The ping path's statements for one database vendor."""
    check_table, project_table = Check._meta.db_table, Project._meta.db_table
    features = connection.features
    lock = " FOR UPDATE" if features.has_select_for_update else ""
    lock_of = (
        f" FOR UPDATE OF {_qn('c')}" if features.has_select_for_update_of else lock
    )
    update_sets = ", ".join(
        f"{_qn(f.column)} = %s"
        for f in _concrete_fields(Check, tuple(PING_UPDATE_FIELDS))
    )
    # Identifiers come from model metadata; every value is a query parameter.
    c, p = _qn("c"), _qn("p")
    by_code = f"SELECT {_columns(Check)} FROM {_qn(check_table)} WHERE code = %s"  # noqa: S608
    by_slug = (
        f"SELECT {_columns(Check, 'c')} FROM {_qn(check_table)} {c} "  # noqa: S608
        f"JOIN {_qn(project_table)} {p} ON {p}.id = {c}.project_id "
        f"WHERE {p}.ping_key = %s AND {c}.slug = %s LIMIT 2"
    )
    return {
        "by_code": by_code + lock,
        "by_slug": by_slug + lock_of,
        "update": f"UPDATE {_qn(check_table)} SET {update_sets} WHERE id = %s",  # noqa: S608
        "insert_flip": _insert_sql(Flip, _FLIP_INSERT_FIELDS),
        "insert_ping": _insert_sql(Ping, _PING_INSERT_FIELDS),
        # A multi-row insert: "(%s, ...)" once per ping follows.
        "insert_pings": _insert_sql(Ping, _PING_INSERT_FIELDS).rsplit(" VALUES ", 1)[0]
        + " VALUES ",
        "prune": _prune_sql(vendor),
    }


def _prune_sql(vendor: str) -> str:
    """Delete a check's pings beyond its owner's log limit (as prune_pings does).

    Values: the check's id, its n_pings, its project's id, settings.PING_LOG_LIMIT
    (for an owner without a profile). Served by the (owner, n) unique index. On
    PostgreSQL, rows the hourly prune holds are skipped, not waited for: the ping
    holds its check's lock meanwhile, and the hourly prune deletes them anyway.
    """

    def column(model: type[Model], name: str) -> str:
        return _qn(_concrete_fields(model, (name,))[0].column)

    pr, p = _qn("pr"), _qn("p")
    limit = (
        f"SELECT {pr}.{column(Profile, 'ping_log_limit')} "  # noqa: S608
        f"FROM {_qn(Project._meta.db_table)} {p} "
        f"JOIN {_qn(Profile._meta.db_table)} {pr} "
        f"ON {pr}.{column(Profile, 'user')} = {p}.{column(Project, 'owner')} "
        f"WHERE {p}.id = %s"
    )
    table = _qn(Ping._meta.db_table)
    beyond = (
        f"{column(Ping, 'owner')} = %s "
        f"AND {column(Ping, 'n')} <= %s - COALESCE(({limit}), %s)"
    )
    if vendor != "postgresql":
        return f"DELETE FROM {table} WHERE {beyond}"  # noqa: S608
    return (
        f"DELETE FROM {table} WHERE id IN "  # noqa: S608
        f"(SELECT id FROM {table} WHERE {beyond} FOR UPDATE SKIP LOCKED)"
    )


def _prune_values(check: Check) -> list[Any]:
    return [check.id, check.n_pings, check.project_id, settings.PING_LOG_LIMIT]


def _values(obj: Model, names: tuple[str, ...], db: Any = connection) -> list[Any]:
    """`obj`'s field values prepared for the database, in the order of `names`."""
    return [
        f.get_db_prep_save(getattr(obj, f.attname), db)
        for f in _concrete_fields(type(obj), names)
    ]


def _writes(
    check: Check, flip: Flip | None, saved: Ping
) -> tuple[list[str], list[list[Any]]]:
    """A ping's writes: one statement string on PostgreSQL, else one per write."""
    sql = _ping_sql(connection.vendor)
    statements = [sql["update"]]
    params = [[*_values(check, tuple(PING_UPDATE_FIELDS)), check.pk]]
    if flip is not None:
        statements.append(sql["insert_flip"])
        params.append(_values(flip, _FLIP_INSERT_FIELDS))
    statements.append(sql["insert_ping"])
    params.append(_values(saved, _PING_INSERT_FIELDS))
    if check.n_pings % PRUNE_EVERY == 0:
        statements.append(sql["prune"])
        params.append(_prune_values(check))
    if connection.vendor != "postgresql":
        return statements, params
    return ["; ".join(statements)], [[value for part in params for value in part]]


_CHECK_ATTNAMES = tuple(f.attname for f in Check._meta.concrete_fields)


@functools.cache
def _check_converters(vendor: str) -> list[tuple[int, list[Any], Any]]:
    """(column index, converters, column) for the Check columns that need converting."""
    table = Check._meta.db_table
    found = []
    for index, field in enumerate(Check._meta.concrete_fields):
        column = field.get_col(table)
        converters = connection.ops.get_db_converters(
            column
        ) + column.get_db_converters(connection)
        if converters:
            found.append((index, converters, column))
    return found


def _check_from_row(row: Sequence[Any], db: Any = connection) -> Check:
    """A Check from a row of all its columns, as the ORM would build it.

    What `Model.from_db` gives (the converted values as attributes, a state that is
    saved in `db`) without `Model.__init__`'s per-field work and init signals, which
    cost more than the rest of a ping's logic; no receiver listens to them for Check
    (tests/checks/test_ping_sql.py compares the two).
    """
    values = list(row)
    for index, converters, column in _check_converters(db.vendor):
        for converter in converters:
            values[index] = converter(values[index], column, db)
    check = Check.__new__(Check)
    check.__dict__.update(zip(_CHECK_ATTNAMES, values, strict=True))
    state = ModelState()
    state.adding, state.db = False, db.alias
    check._state = state
    return check


def _lock_check(statement: str, params: list[Any]) -> list[Check]:
    sql = _ping_sql(connection.vendor)[statement]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_check_from_row(row) for row in cursor.fetchall()]


def _two_round_trips() -> bool:
    """Whether a ping may run its own transaction in two round trips (see above)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _ping_in_two_round_trips(
    statement: str, params: list[Any], ping: PingData, now: datetime
) -> PingKind | None:
    """Lock, apply and commit one ping in its own transaction on PostgreSQL.

    None when no check matches; AmbiguousSlug when several do. Nothing is written
    unless the COMMIT at the end of the second round trip succeeds.
    """
    lock = f"BEGIN; {_ping_sql(connection.vendor)[statement]}"
    # With CONN_HEALTH_CHECKS Django sends `SELECT 1` before a request's first query
    # on a reused connection. The ping's first round trip writes nothing, so it does
    # that job itself: on a connection the server has dropped (a restart, an idle
    # timeout) it fails, and is sent once more on a new connection.
    connection.health_check_done = True  # type: ignore[attr-defined]  # not in stubs
    try:
        rows = _begin_and_lock(lock, params)
    except (InterfaceError, OperationalError):
        connection.close()
        rows = _begin_and_lock(lock, params)
    with connection.cursor() as cursor:
        if len(rows) != 1:
            cursor.execute("ROLLBACK")
            if rows:
                raise AmbiguousSlug(params[-1])
            return None
        try:
            check = _check_from_row(rows[0])
            flip, saved = _prepare(check, ping, now)
            writes, values = _writes(check, flip, saved)
            cursor.execute(f"{writes[0]}; COMMIT", values[0])
        except BaseException:
            _rollback(cursor)
            raise
    return PingKind(saved.kind)


# --- many pings in one transaction (group commit) ------------------------------------
# Under load the web process hands the pings that arrive together to one thread, which
# records them in one transaction of two round trips (checks/group_commit.py): the rows
# of every check in the batch are locked in id order (so two batches never deadlock),
# each ping is applied in turn to its check in memory, and the updates and inserts go
# with the COMMIT. PostgreSQL spends one transaction and one log flush on the lot.


@dataclass(frozen=True)
class PingTarget:
    """The check a ping names: by UUID, or by the project's ping key and a slug."""

    code: uuid.UUID | None = None
    ping_key: str | None = None
    slug: str | None = None


@functools.cache
def _batch_lock_sql(by_code: bool, by_slug: bool, one_key: bool = False) -> str:
    """Lock a batch's checks in id order, skipping rows another transaction holds.

    Values: the UUIDs (by_code); then the ping key and the slugs when every slug
    ping of the batch has the same key (one_key: the usual case, planned in half
    the time), else the keys and the slugs as two arrays of pairs.

    Rows: every Check column, then the project's ping key (NULL when no ping of the
    batch is by slug: the join is left out).
    """
    checks, projects = _qn(Check._meta.db_table), _qn(Project._meta.db_table)
    c, p = _qn("c"), _qn("p")
    lock = f"ORDER BY {c}.id FOR UPDATE OF {c} SKIP LOCKED"
    # Identifiers come from model metadata; every value is a query parameter.
    columns = f"BEGIN; SELECT {_columns(Check, 'c')},"
    joined = f"{columns} {p}.ping_key FROM {checks} {c} JOIN {projects} {p} ON {p}.id = {c}.project_id"  # noqa: E501
    if not by_slug:
        return (
            f"{columns} NULL FROM {checks} {c} WHERE {c}.code = ANY(%s::uuid[]) {lock}"
        )
    if one_key:
        # c2/p2: the same tables again, inside the IN (...) below.
        slugs = "{p}.ping_key = %s AND {c}.slug = ANY(%s::text[])"
        if not by_code:
            return f"{joined} WHERE {slugs.format(p=p, c=c)} {lock}"
        return (
            f"{joined} WHERE {c}.id IN (SELECT id FROM {checks} "  # noqa: S608
            f"WHERE code = ANY(%s::uuid[]) UNION ALL SELECT c2.id FROM {checks} c2 "
            f"JOIN {projects} p2 ON p2.id = c2.project_id "
            f"WHERE {slugs.format(p='p2', c='c2')}) {lock}"
        )
    keys = "unnest(%s::text[], %s::text[]) AS k(ping_key, slug)"
    if not by_code:
        return f"{joined} JOIN {keys} ON {p}.ping_key = k.ping_key AND {c}.slug = k.slug {lock}"  # noqa: E501
    return (
        f"{joined} WHERE {c}.id IN (SELECT id FROM {checks} "  # noqa: S608
        f"WHERE code = ANY(%s::uuid[]) UNION ALL SELECT c2.id FROM {checks} c2 "
        f"JOIN {projects} p2 ON p2.id = c2.project_id "
        f"JOIN {keys} ON p2.ping_key = k.ping_key AND c2.slug = k.slug) {lock}"
    )


def ping_many(
    pings: list[tuple[PingTarget, PingData, datetime]],
) -> list[PingKind | None]:
    """Record several pings in one transaction on PostgreSQL, in the order given.

    For each ping, the kind it was logged as, or None when it names no check, an
    ambiguous slug or a check another transaction has locked: those are left for the
    one-ping path to answer (which waits for the lock). Raises on any error, and then
    nothing is written. Outside a caller's transaction only.
    """
    codes = list({str(t.code) for t, _, _ in pings if t.code is not None})
    slugs = list({(t.ping_key, t.slug) for t, _, _ in pings if t.slug is not None})
    params: list[Any] = [codes] if codes else []
    keys = list({k for k, _ in slugs})
    if len(keys) == 1:
        params += [keys[0], [s for _, s in slugs]]
    elif slugs:
        params += [[k for k, _ in slugs], [s for _, s in slugs]]
    lock = _batch_lock_sql(bool(codes), bool(slugs), len(keys) == 1)
    # This thread's connection itself, not the proxy: it is used many times a ping.
    db = connections[DEFAULT_DB_ALIAS]
    if db.in_atomic_block:
        raise transaction.TransactionManagementError("ping_many runs its own")
    # What Django does between requests: drop a connection past CONN_MAX_AGE or
    # broken by an earlier error.
    db.close_if_unusable_or_obsolete()
    db.health_check_done = True  # type: ignore[attr-defined]  # see above
    cursor = db.cursor()
    try:
        try:
            cursor.execute(lock, params)
        except (InterfaceError, OperationalError):
            # A connection the server dropped: once more on a new one (see above).
            db.close()
            cursor = db.cursor()
            cursor.execute(lock, params)
        kinds, writes, values = _apply_many(pings, cursor.fetchall(), db)
        cursor.execute(f"{writes}; COMMIT" if writes else "ROLLBACK", values)
    except BaseException:
        _rollback(cursor)
        raise
    finally:
        cursor.close()
    return kinds


def _apply_many(
    pings: list[tuple[PingTarget, PingData, datetime]],
    rows: list[tuple[Any, ...]],
    db: Any,
) -> tuple[list[PingKind | None], str, list[Any]]:
    """Apply pings to their locked checks in memory: each ping's kind (None for no
    single check) and the statements and values that write them (none if none),
    with the prune of each check whose log is due for it."""
    by_code: dict[uuid.UUID, Check] = {}
    by_slug: dict[tuple[str, str], list[Check]] = {}
    for row in rows:
        locked = _check_from_row(row[:-1], db)
        by_code[locked.code] = locked
        by_slug.setdefault((row[-1], locked.slug), []).append(locked)
    kinds: list[PingKind | None] = []
    touched: dict[int, Check] = {}
    flips: list[Flip] = []
    ping_rows: list[Any] = []
    prune: dict[int, Check] = {}
    for target, ping, now in pings:
        check: Check | None
        if target.code is not None:
            check = by_code.get(target.code)
        else:
            found = by_slug.get((target.ping_key or "", target.slug or ""), [])
            check = found[0] if len(found) == 1 else None
        if check is None:
            kinds.append(None)
            continue
        kind = classify(check, ping)
        flip = _apply_ping(check, kind, ping, now)
        touched[check.id] = check
        if flip is not None:
            flips.append(flip)
        ping_rows.extend(_ping_row(check, kind, ping, now, db))
        kinds.append(kind)
        if check.n_pings % PRUNE_EVERY == 0:
            prune[check.id] = check
    if not touched:
        return kinds, "", []
    sql = _ping_sql(db.vendor)
    count = len(ping_rows) // len(_PING_INSERT_FIELDS)
    statements = [
        *[sql["update"]] * len(touched),
        *[sql["insert_flip"]] * len(flips),
        sql["insert_pings"] + ", ".join([_PING_ROW_PLACEHOLDERS] * count),
        # After the inserts, with each check's n_pings at the end of the batch.
        *[sql["prune"]] * len(prune),
    ]
    values = [
        *(v for c in touched.values() for v in (*_update_values(c), c.pk)),
        *(v for f in flips for v in _values(f, _FLIP_INSERT_FIELDS, db)),
        *ping_rows,
        *(v for c in prune.values() for v in _prune_values(c)),
    ]
    return kinds, "; ".join(statements), values


# A batch's values are taken as they are where get_db_prep_save() would hand them to
# PostgreSQL unchanged: for the check's ping fields (datetimes, a UUID, an interval,
# strings, an integer and a boolean) that is every one of them. A ping row adapts
# its address and body for the database as those fields do; the address skips the
# field's own normalising (clean_ipv6_address), which PostgreSQL's inet type does
# the same way. tests/checks/test_ping_sql.py compares the SQL literals of both with
# the ORM's.
_update_values = operator.attrgetter(
    *(f.attname for f in _concrete_fields(Check, _PING_UPDATE))
)
_PING_ROW_PLACEHOLDERS = "(" + ", ".join(["%s"] * len(_PING_INSERT_FIELDS)) + ")"


def _ping_row(
    check: Check, kind: PingKind, ping: PingData, now: datetime, db: Any
) -> list[Any]:
    """The values of one ping's row, in the order of _PING_INSERT_FIELDS."""
    row = {
        "n": check.n_pings,
        "owner": check.id,
        "created": now,
        "kind": kind,
        "scheme": ping.scheme,
        "remote_addr": db.ops.adapt_ipaddressfield_value(ping.remote_addr),
        "method": ping.method,
        "ua": ping.ua,
        "body": db.Database.Binary(ping.body) if ping.body else None,
        "exitstatus": ping.exitstatus,
        "rid": ping.rid,
    }
    return [row[name] for name in _PING_INSERT_FIELDS]


def _begin_and_lock(
    sql: str, params: list[Any], db: Any = connection
) -> list[tuple[Any, ...]]:
    """The first round trip: open the transaction and lock the check's row."""
    with db.cursor() as cursor:
        try:
            cursor.execute(sql, params)
            return cursor.fetchall()
        except BaseException:
            _rollback(cursor)
            raise


def _rollback(cursor: Any) -> None:
    # A failed statement leaves the transaction open and aborted; end it so the
    # connection can serve the next request. If the connection itself is gone, the
    # error is recorded and Django discards it at the end of the request.
    try:
        cursor.execute("ROLLBACK")
    except Error:  # InterfaceError too: a connection already closed
        log.warning("could not roll back a failed ping transaction")


def _code_param(code: uuid.UUID) -> Any:
    return Check._meta.get_field("code").get_db_prep_value(code, connection)


def ping_by_code(*, code: uuid.UUID, ping: PingData, now: datetime) -> PingKind | None:
    """Record a ping for the check with this UUID: the kind it was logged as, or
    None if there is no such check."""
    if _two_round_trips():
        return _ping_in_two_round_trips("by_code", [_code_param(code)], ping, now)
    with transaction.atomic():
        found = _lock_check("by_code", [_code_param(code)])
        if not found:
            return None
        return record_ping(check=found[0], ping=ping, now=now)


class AmbiguousSlug(Exception):
    """More than one check of the project has this slug."""


def _lock_by_slug(ping_key: str, slug: str) -> Check | None:
    found = _lock_check("by_slug", [ping_key, slug])
    if len(found) > 1:
        raise AmbiguousSlug(slug)
    return found[0] if found else None


def ping_by_slug(
    *, ping_key: str, slug: str, ping: PingData, now: datetime, create: bool = False
) -> tuple[PingKind | None, bool]:
    """Record a ping for (ping_key, slug): the kind it was logged as (None if there
    is no such check), and whether it created the check.

    With `create`, a missing check is auto-provisioned (spec 2.5) when
    `may_auto_provision` allows it. AmbiguousSlug if several checks match.
    """
    if _two_round_trips():
        kind = _ping_in_two_round_trips("by_slug", [ping_key, slug], ping, now)
        if kind is not None:
            return kind, False
    else:
        with transaction.atomic():
            check = _lock_by_slug(ping_key, slug)
            if check is not None:
                return record_ping(check=check, ping=ping, now=now), False
    if not create:
        return None, False
    with transaction.atomic():
        # The project row lock serialises concurrent `?create=1` pings of one
        # project, so two first pings of a new slug make one check, not two.
        project = (
            Project.objects.select_for_update()
            .filter(ping_key=ping_key)
            .select_related("owner")
            .first()
        )
        if project is None:
            return None, False
        check = _lock_by_slug(ping_key, slug)
        if check is not None:
            return record_ping(check=check, ping=ping, now=now), False
        if not _may_auto_provision(project, slug):
            return None, False
        check = create_check(project=project, name=slug, slug=slug)
        check.channels.set(Channel.objects.filter(project=project))
        return record_ping(check=check, ping=ping, now=now), True


def may_auto_provision(*, ping_key: str, slug: str) -> bool:
    """Whether `?create=1` would create a check for this slug (no writes)."""
    project = Project.objects.filter(ping_key=ping_key).select_related("owner").first()
    return project is not None and _may_auto_provision(project, slug)


# Auto-provisioning may go this far past the owner's check limit (upstream: 2x), so
# a fleet that scales out a little past the limit keeps its checks.
AUTO_PROVISION_FACTOR = 2


def _may_auto_provision(project: Project, slug: str) -> bool:
    if len(slug) > SLUG_MAX_LENGTH:
        return False
    if RetiredSlug.objects.filter(project=project, slug=slug).exists():
        return False
    used = Check.objects.filter(project__owner=project.owner).count()
    return used < AUTO_PROVISION_FACTOR * check_limit(project.owner)


def check_limit(user: User) -> int:
    profile = Profile.objects.filter(user=user).first()
    return profile.check_limit if profile else settings.CHECK_LIMIT


def checks_available(user: User) -> int:
    """How many more checks the user's projects may hold."""
    used = Check.objects.filter(project__owner=user).count()
    return check_limit(user) - used


def create_check(
    *, project: Project, now: datetime | None = None, **fields: Any
) -> Check:
    """Create a check with the given fields (already validated) and its deadline."""
    check = Check(project=project, **fields)
    check.alert_after = schedule.going_down_after(check)
    check.save()
    return check


def update_check(*, check: Check, fields: dict[str, Any]) -> bool:
    """Save changed fields and the recomputed deadline; False if the check is gone."""
    for name, value in fields.items():
        setattr(check, name, value)
    check.alert_after = schedule.going_down_after(check)
    updated = Check.objects.filter(pk=check.pk).update(
        alert_after=check.alert_after, **fields
    )
    return updated == 1


def change_schedule(*, check: Check, fields: dict[str, Any], now: datetime) -> bool:
    """Save a schedule edited on the dashboard; False if the check is gone.

    An up check that the new schedule makes overdue goes down at once with a flip
    that is already processed: the user caused it, so nobody is alerted (upstream).
    """
    with transaction.atomic():
        if not update_check(check=check, fields=fields):
            return False
        if check.status != Status.UP or schedule.status_at(check, now) != Status.DOWN:
            return True
        if Check.objects.filter(pk=check.pk, status=Status.UP).update(
            status=Status.DOWN, alert_after=None
        ):
            Flip.objects.create(
                owner=check,
                created=now,
                old_status=Status.UP,
                new_status=Status.DOWN,
                reason=Reason.TIMEOUT,
                processed=now,
            )
            check.status = Status.DOWN
            check.alert_after = None
    return True


PING_HANDLING_FIELDS = frozenset(
    {
        "methods",
        "filter_http_body",
        "filter_subject",
        "filter_body",
        "filter_default_fail",
        "start_kw",
        "success_kw",
        "failure_kw",
        "manual_resume",
        "reminder_interval",
    }
)


def update_ping_handling(
    *, check: Check, fields: dict[str, Any], now: datetime
) -> bool:
    """Save filtering rules, manual resume and reminders; False if the check is gone.

    A check that is already down gets its next reminder rescheduled: reminders are
    otherwise only scheduled when it goes down, so a new interval would wait for
    the next outage.
    """
    unknown = set(fields) - PING_HANDLING_FIELDS
    if unknown:
        raise ValueError(f"not ping handling fields: {sorted(unknown)}")
    with transaction.atomic():
        if not update_check(check=check, fields=fields):
            return False
        if "reminder_interval" in fields:
            reschedule_reminder(check=check, now=now)
    return True


def reschedule_reminder(*, check: Check, now: datetime) -> None:
    """After a reminder interval changed: a down check's next reminder follows it
    (reminders are otherwise only scheduled when the check goes down)."""
    if check.status != Status.DOWN:
        return
    interval = alerts.reminder_interval(check)
    if interval is None:
        check.next_reminder = None
    elif check.next_reminder is None or check.next_reminder > now + interval:
        check.next_reminder = now + interval
    Check.objects.filter(pk=check.pk).update(next_reminder=check.next_reminder)


def pause_check(*, check: Check, now: datetime) -> bool:
    """Pause a check (no alerts while paused); False if it already was."""
    with transaction.atomic():
        # Lock first: the flip must record the status the check really had.
        old = Check.objects.select_for_update().filter(pk=check.pk).first()
        if old is None or old.status == Status.PAUSED:
            return False
        Check.objects.filter(pk=check.pk).update(
            status=Status.PAUSED, last_start=None, last_start_rid=None, alert_after=None
        )
        Flip.objects.create(
            owner=check,
            created=now,
            old_status=old.status,
            new_status=Status.PAUSED,
            processed=now,
        )
    check.status = Status.PAUSED
    check.last_start = check.last_start_rid = check.alert_after = None
    return True


def resume_check(*, check: Check, now: datetime) -> bool:
    """Resume a paused check: it becomes new and waits for its first ping."""
    with transaction.atomic():
        changed = Check.objects.filter(pk=check.pk, status=Status.PAUSED).update(
            status=Status.NEW,
            last_ping=None,
            last_start=None,
            last_start_rid=None,
            alert_after=None,
        )
        if not changed:
            return False
        Flip.objects.create(
            owner=check,
            created=now,
            old_status=Status.PAUSED,
            new_status=Status.NEW,
            processed=now,
        )
    check.status = Status.NEW
    check.last_ping = check.last_start = check.last_start_rid = None
    check.alert_after = None
    return True


def delete_check(*, check: Check) -> None:
    """Delete a check; concurrent pings to its UUID get 404 from the first UPDATE on."""
    throwaway = uuid.uuid4()
    Check.objects.filter(pk=check.pk).update(code=throwaway, slug=str(throwaway))
    for attempt in range(2):
        try:
            # A savepoint, so a failed attempt does not break a caller's transaction.
            with transaction.atomic():
                Check.objects.filter(pk=check.pk).delete()
            return
        except IntegrityError:
            # A ping inserted between the two statements; the next DELETE takes it.
            if attempt:
                raise


def ping_log_limit(user_id: int) -> int:
    """How many pings of each check of this user's projects are kept."""
    profile = Profile.objects.filter(user_id=user_id).first()
    return profile.ping_log_limit if profile else settings.PING_LOG_LIMIT


def prune_pings(*, check_id: int, limit: int | None = None) -> int:
    """Delete pings beyond the check's log limit; the number deleted."""
    check = Check.objects.filter(pk=check_id).select_related("project").first()
    if check is None:
        return 0
    if limit is None:
        limit = ping_log_limit(check.project.owner_id)
    # One DELETE served by the (owner, n) unique index; n is dense per check.
    deleted, _ = Ping.objects.filter(
        owner_id=check_id, n__lte=check.n_pings - limit
    ).delete()
    return deleted


# --- projects and keys -------------------------------------------------------------


def create_project(*, owner: User, name: str) -> Project:
    return Project.objects.create(owner=owner, name=name, ping_key=new_ping_key())


def create_api_key(
    *, project: Project, name: str, read_only: bool
) -> tuple[ApiKey, str]:
    """A new named key; the full key is returned once and never stored."""
    full = ApiKey.generate(read_only)
    key = ApiKey.objects.create(
        project=project,
        name=name,
        read_only=read_only,
        prefix=full[4:12],
        digest=key_digest(full),
    )
    return key, full


def find_api_key(full: str) -> ApiKey | None:
    """The ApiKey for a full key string, or None; constant-time digest comparison."""
    if len(full) != 32 or full[:4] not in (ApiKey.RW_PREFIX, ApiKey.RO_PREFIX):
        return None
    read_only = full.startswith(ApiKey.RO_PREFIX)
    candidates = ApiKey.objects.filter(prefix=full[4:12], read_only=read_only)
    for key in candidates.select_related("project"):
        if key.matches(full):
            return key
    return None


# Write last_used at most this often per key: a busy script is not a write per call.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def touch_api_key(*, key: ApiKey, now: datetime) -> None:
    if key.last_used is None or now - key.last_used >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).filter(
            Q(last_used__isnull=True) | Q(last_used__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used=now)
        key.last_used = now


def rotate_ping_key(*, project: Project) -> str:
    project.ping_key = new_ping_key()
    Project.objects.filter(pk=project.pk).update(ping_key=project.ping_key)
    return project.ping_key


# --- channels (dashboard) ----------------------------------------------------------


def set_check_channels(*, check: Check, channels: list[Channel]) -> None:
    """Attach exactly these channels (all of the check's project) to the check."""
    if any(c.project_id != check.project_id for c in channels):
        raise ValueError("a channel of another project")
    check.channels.set(channels)


def create_channel(
    *,
    project: Project,
    kind: str,
    name: str,
    config: dict[str, Any],
    by: AbstractBaseUser | AnonymousUser | None = None,
) -> Channel:
    """A new channel, attached to every existing check of the project (as upstream).

    `by`: the user adding it (None through the API); new email addresses other
    than theirs are sent a verification link.
    """
    with transaction.atomic():
        channel = Channel.objects.create(
            project=project, kind=kind, name=name, config=config
        )
        channel.checks.set(Check.objects.filter(project=project))
        email_links.channel_saved(channel, by=by)
    return channel


def update_channel(
    *,
    channel: Channel,
    name: str,
    config: dict[str, Any],
    by: AbstractBaseUser | AnonymousUser | None = None,
) -> None:
    """Save a channel's new name and config; a fixed config clears the old error."""
    previous = channel.config
    channel.name = name
    channel.config = config
    channel.last_error = ""
    channel.disabled = False
    with transaction.atomic():
        channel.save(update_fields=["name", "config", "last_error", "disabled"])
        email_links.channel_saved(channel, by=by, previous=previous)


# --- housekeeping (periodic prune) -------------------------------------------------

# Rows deleted per statement: short locks on tables the ping path writes to.
PRUNE_BATCH = 5000


def _delete_in_batches(queryset: QuerySet[Any]) -> int:
    """Delete the rows of `queryset` a batch at a time; the number deleted.

    Rows another transaction holds are skipped, not waited for: a ping's own
    transaction prunes its check's log (every PRUNE_EVERY pings) with the check
    locked, so waiting here while holding other checks' rows could deadlock with
    it. A skipped row is left for the next run.
    """
    locked = queryset.select_for_update(skip_locked=True, of=("self",))
    total = 0
    while True:
        with transaction.atomic():
            ids = list(locked.values_list("pk", flat=True)[:PRUNE_BATCH])
            if not ids:
                return total
            queryset.model.objects.filter(pk__in=ids).delete()
        total += len(ids)


def prune_old_pings() -> int:
    """Delete every check's pings beyond its owner's log limit (or PING_LOG_LIMIT)."""
    limit = Coalesce(
        F("owner__project__owner__profile__ping_log_limit"),
        Value(settings.PING_LOG_LIMIT),
    )
    # alias() keeps the profile join LEFT OUTER: users without a profile still count.
    over = Ping.objects.alias(limit=limit).filter(
        n__lte=F("owner__n_pings") - F("limit")
    )
    return _delete_in_batches(over)


def prune_old_flips(*, now: datetime) -> int:
    """Delete flips older than FLIP_RETENTION_DAYS whose notifications are done."""
    threshold = now - timedelta(days=settings.FLIP_RETENTION_DAYS)
    open_states = [DeliveryState.PENDING, DeliveryState.SENDING]
    old = (
        Flip.objects.filter(created__lt=threshold, processed__isnull=False)
        .exclude(notification__state__in=open_states)
        .order_by()
    )
    return _delete_in_batches(old)


def prune_old_notifications(*, now: datetime) -> int:
    """Delete sent or failed notifications older than NOTIFICATION_RETENTION_DAYS."""
    threshold = now - timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    done = [DeliveryState.SENT, DeliveryState.FAILED]
    return _delete_in_batches(
        Notification.objects.filter(created__lt=threshold, state__in=done)
    )


def prune_history(*, now: datetime) -> dict[str, int]:
    """Run every prune; how many pings, flips, notifications, buckets were deleted."""
    return {
        "pings": prune_old_pings(),
        "notifications": prune_old_notifications(now=now),
        "flips": prune_old_flips(now=now),
        "token_buckets": ratelimit.prune(now=now),
    }


# --- API: upsert lookup, channel assignment, reads the API needs -------------------


class ChannelSpecError(ValueError):
    """A `channels` value naming no channel, several channels, or an empty item."""


def resolve_channels(*, project: Project, spec: str) -> list[Channel]:
    """Channels named by an API `channels` value: `*` all, `""` none, else a list.

    Items are comma-separated channel UUIDs or names; each must match exactly one
    channel of the project (a channel named like a UUID is found by its name too).
    """
    if spec == "*":
        return list(Channel.objects.filter(project=project))
    if spec == "":
        return []
    available = list(Channel.objects.filter(project=project))
    chosen: dict[int, Channel] = {}
    for item in spec.split(","):
        if not item:
            raise ChannelSpecError("empty channel identifier")
        matches = [c for c in available if str(c.code) == item or c.name == item]
        if not matches:
            raise ChannelSpecError(f"invalid channel identifier: {item}")
        if len(matches) > 1:
            raise ChannelSpecError(f"non-unique channel identifier: {item}")
        chosen[matches[0].pk] = matches[0]
    return list(chosen.values())


def find_unique_check(*, project: Project, lookup: dict[str, Any]) -> Check | None:
    """The first check of the project whose fields equal `lookup` (API upsert)."""
    return Check.objects.filter(project=project, **lookup).order_by("id").first()


def channel_codes(*, project: Project, check: Check | None = None) -> dict[int, str]:
    """Check id -> comma-joined sorted channel UUIDs, in two queries for any number.

    Links are read as integer pairs and mapped to the few channel UUIDs in Python:
    joining would convert one UUID per link (30,000 for 10,000 checks).
    """
    code_of = {
        pk: str(code)
        for pk, code in Channel.objects.filter(project=project).values_list(
            "id", "code"
        )
    }
    if not code_of:
        return {}
    links = Channel.checks.through.objects.filter(channel_id__in=list(code_of))
    if check is not None:
        links = links.filter(check=check)
    codes: dict[int, list[str]] = {}
    for check_id, channel_id in links.values_list("check_id", "channel_id"):
        codes.setdefault(check_id, []).append(code_of[channel_id])
    return {check_id: ",".join(sorted(c)) for check_id, c in codes.items()}
