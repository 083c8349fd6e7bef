"""Every statement of the hot paths, built once.

Building a SQLAlchemy statement costs several times more than running a prebuilt one
(about 240 µs against 50 µs for a one-row lookup on SQLite, measured on the benchmark
machine), so statements are module constants with bind parameters, and the few that
vary take their shape from a small cached factory. Bind parameter names never equal a
column name: SQLAlchemy reserves those in INSERT and UPDATE statements.

Parameters: ``in_project`` / ``in_queue`` name the queue (``queue_key`` is its row id), ``now``
is the driver clock, ``number`` / ``numbers`` (a message's number in its queue: its wire id),
``row_ids`` (row ids, internal) and ``row_limit`` select messages.
"""
import functools
from typing import Any

import sqlalchemy as sa

from zaqar.storage.sqlalchemy import tables as t

q, m, c, r = t.queues.c, t.messages.c, t.claims.c, t.retired_queues.c
P = sa.bindparam

# -- building blocks ----------------------------------------------------------------------

IN_SCOPE = sa.and_(q.project == P("in_project"), q.name == P("in_queue"))
QUEUE_KEY = sa.select(q.id).where(IN_SCOPE).scalar_subquery()
IN_QUEUE = m.queue_id == QUEUE_KEY
LIVE = m.expires > P("now")
FREE = sa.or_(m.claim_expires.is_(None), m.claim_expires <= P("now"))
VISIBLE = m.visible_at <= P("now")
ROW_IDS = m.id.in_(P("row_ids", expanding=True))
NUMBERS = m.seq.in_(P("numbers", expanding=True))
MESSAGE_COLUMNS = (m.id, m.seq, m.body, m.created, m.expires, m.claim_id, m.claim_expires,
                   m.claim_count, m.checksum)

# -- queues ---------------------------------------------------------------------------

QUEUE_ID = sa.select(q.id).where(IN_SCOPE)
QUEUE_ID_LOCKED = QUEUE_ID.with_for_update()
# Taking ``taken`` message numbers: the row lock held until commit makes posts to one
# queue commit in number order. MySQL has no UPDATE ... RETURNING: lock, then set.
TAKE_NUMBERS = (t.queues.update().where(IN_SCOPE)
                .values(last_seq=q.last_seq + P("taken")).returning(q.id, q.last_seq))
# SQLite runs it on the DBAPI cursor (see SQLITE_INSERT_MESSAGE).
SQLITE_TAKE_NUMBERS = ("UPDATE queues SET last_seq = last_seq + ? "
                       "WHERE project = ? AND name = ? RETURNING id, last_seq")
LAST_NUMBER_LOCKED = sa.select(q.id, q.last_seq).where(IN_SCOPE).with_for_update()
SET_LAST_NUMBER = t.queues.update().where(q.id == P("queue_key")).values(
    last_seq=P("new_last"))
# A new queue goes on from the last number its name had (or the floor; see tables.py).
RETIRED_SCOPE = sa.or_(sa.and_(r.project == P("in_project"), r.name == P("in_queue")),
                       sa.and_(r.project == "", r.name == ""))
START_NUMBERS = t.queues.update().where(q.id == P("queue_key")).values(
    last_seq=sa.select(sa.func.coalesce(sa.func.max(r.last_seq), 0)).where(RETIRED_SCOPE)
    .scalar_subquery())
FORGET_RETIRED = t.retired_queues.delete().where(r.project == P("in_project"),
                                                 r.name == P("in_queue"))
RETIRE = t.retired_queues.insert()
QUEUE_METADATA = sa.select(q.metadata).where(IN_SCOPE)
SET_QUEUE_METADATA = t.queues.update().where(IN_SCOPE).values(metadata=P("new_metadata"))
QUEUE_TO_DELETE = sa.select(q.id, q.last_seq).where(IN_SCOPE).with_for_update()
DELETE_QUEUE = t.queues.delete().where(q.id == P("queue_key"))
DELETE_QUEUE_MESSAGES = t.messages.delete().where(m.queue_id == P("queue_key"))
DELETE_QUEUE_CLAIMS = t.claims.delete().where(c.queue_id == P("queue_key"))
COUNT_QUEUES = sa.select(sa.func.count()).select_from(t.queues).where(
    q.project == P("in_project"))
QUEUE_COUNTS = sa.select(sa.func.count(), sa.func.sum(sa.case((sa.not_(FREE), 1), else_=0))
                         ).where(IN_QUEUE, LIVE)
OLDEST = sa.select(*MESSAGE_COLUMNS).where(IN_QUEUE, LIVE).order_by(m.seq.asc()).limit(1)
NEWEST = sa.select(*MESSAGE_COLUMNS).where(IN_QUEUE, LIVE).order_by(m.seq.desc()).limit(1)


@functools.cache
def list_queues(after_marker: bool) -> sa.Select[Any]:
    query = (sa.select(q.name, q.metadata).where(q.project == P("in_project"))
             .order_by(q.name).limit(P("row_limit")))
    return query.where(q.name > P("marker")) if after_marker else query


# -- messages -------------------------------------------------------------------------

INSERT_MESSAGE = t.messages.insert()
SQLITE_INSERT_COLUMNS = ("queue_id", "seq", "body", "client_id", "created", "expires", "visible_at",
                         "checksum")
SQLITE_INSERT_MESSAGE = (f"INSERT INTO messages ({', '.join(SQLITE_INSERT_COLUMNS)}) "
                         f"VALUES ({', '.join('?' * len(SQLITE_INSERT_COLUMNS))})")
MESSAGES_BY_NUMBER = (sa.select(*MESSAGE_COLUMNS).where(IN_QUEUE, NUMBERS, LIVE)
                      .order_by(m.seq))
ONE_MESSAGE = m.seq == P("number")
DELETE_FREE_MESSAGE = t.messages.delete().where(ONE_MESSAGE, IN_QUEUE, FREE)
DELETE_CLAIMED_MESSAGE = t.messages.delete().where(ONE_MESSAGE, IN_QUEUE,
                                                   m.claim_id == P("claim"),
                                                   m.claim_expires > P("now"))
MESSAGE_CLAIM_STATE = sa.select(m.claim_id, m.claim_expires, m.expires).where(ONE_MESSAGE,
                                                                              IN_QUEUE)
MESSAGES_CLAIM_STATE_LOCKED = (sa.select(m.seq, m.claim_id, m.claim_expires)
                               .where(IN_QUEUE, NUMBERS, LIVE).with_for_update())
DELETE_MESSAGES_IN_QUEUE = t.messages.delete().where(IN_QUEUE, NUMBERS)
DELETE_MESSAGES = t.messages.delete().where(ROW_IDS)
# Oldest live, visible, unclaimed messages, row-locked, skipping rows others hold.
FREE_MESSAGES_LOCKED = (sa.select(*MESSAGE_COLUMNS, m.queue_id)
                        .where(IN_QUEUE, LIVE, VISIBLE, FREE)
                        .order_by(m.seq).limit(P("row_limit"))
                        .with_for_update(skip_locked=True))


@functools.cache
def list_messages(after_marker: bool, echo: bool, include_claimed: bool,
                  include_delayed: bool) -> sa.Select[Any]:
    """One of the 16 shapes of a message listing."""
    query = sa.select(*MESSAGE_COLUMNS).where(IN_QUEUE, LIVE)
    if after_marker:
        query = query.where(m.seq > P("marker"))
    if not echo:
        query = query.where(m.client_id != P("client"))
    if not include_claimed:
        query = query.where(FREE)
    if not include_delayed:
        query = query.where(VISIBLE)
    return query.order_by(m.seq).limit(P("row_limit"))


# -- claims ---------------------------------------------------------------------------

# A claimed message lives at least until its claim ends plus the grace.
_EXTENDED_LIFE = sa.case((m.expires < P("life_until"), P("life_until")), else_=m.expires)
INSERT_CLAIM = t.claims.insert()
CLAIM_MESSAGES = t.messages.update().where(ROW_IDS).values(
    claim_id=P("claim"), claim_expires=P("claim_until"), claim_count=m.claim_count + 1,
    expires=_EXTENDED_LIFE)
LIVE_CLAIM = sa.and_(c.id == P("claim"), c.queue_id == QUEUE_KEY, c.expires > P("now"))
GET_CLAIM = sa.select(c.id, c.ttl, c.grace, c.created).where(LIVE_CLAIM)
CLAIMED_MESSAGES = (sa.select(*MESSAGE_COLUMNS)
                    .where(m.claim_id == P("claim"), m.claim_expires > P("now"), LIVE)
                    .order_by(m.seq))
RENEW_CLAIM = t.claims.update().where(LIVE_CLAIM).values(
    ttl=P("claim_ttl"), grace=P("claim_grace"), expires=P("claim_until"))
RENEW_CLAIMED_MESSAGES = t.messages.update().where(
    m.claim_id == P("claim"), m.claim_expires > P("now"),
).values(claim_expires=P("claim_until"), expires=_EXTENDED_LIFE)
RELEASE_CLAIMED_MESSAGES = t.messages.update().where(
    m.claim_id == P("claim"), m.queue_id == P("queue_key"),
).values(claim_id=None, claim_expires=None)
# A dead letter's move to another queue (base.DeadLetter): a new number there, free,
# living from the move. One row update, so it is in one queue or the other, never both.
MOVE_MESSAGE = t.messages.update().where(m.id == P("row_key")).values(
    queue_id=P("to_queue"), seq=P("new_seq"), claim_id=None, claim_expires=None,
    created=P("moved_at"), expires=P("moved_until"), visible_at=0.0)
DELETE_CLAIM = t.claims.delete().where(c.id == P("claim"), c.queue_id == P("queue_key"))
