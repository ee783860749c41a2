"""Buckets of the lead list's orderings other than ``created_at``, for deep pages.

``LeadOrderCount`` holds how many live leads of each (owner, pipeline status) fall in each
bucket of each ordering: score (one bucket per point), value (two significant digits of the
whole amount), name (the first two characters of ``Lead.name_key``), ``updated_at`` and
``last_interaction_at`` (UTC weeks; NULL is its own bucket). Bucket labels are strings whose
code point order is the ordering's own, so a page at ``offset`` is found by summing the
buckets in list order and reading the page from the bucket(s) that hold it, skipping at most
one bucket's leads instead of ``offset`` index entries (``LeadFilterSet.page_ids``).

The counts are kept by the lead model's writers (``leads.models``: ``save``, and the queryset's
``update``, ``bulk_create``, ``bulk_update`` and ``delete``), by the CSV import's raw inserts,
and rebuilt nightly from the table (:func:`rebuild_order_counts`).
"""

import datetime as dt
import unicodedata
from collections import Counter
from decimal import Decimal

from django.db import connections, transaction
from django.db.models import Q

# Lead columns that decide a live lead's buckets, in the order order_keys() reads them.
STATE_FIELDS = ("owner_id", "status", "deleted_at", "score", "value", "name_key", "updated_at",
                "last_interaction_at")
# Fields whose change moves a lead between buckets (names reach them through name_key).
KEY_FIELDS = frozenset({*STATE_FIELDS, "owner", "first_name", "last_name"})

# ordering name (LeadFilterSet) -> the Lead column it sorts by
ORDERING_COLUMN = {
    "score": "score",
    "value": "value",
    "name": "name_key",
    "updated_at": "updated_at",
    "last_interaction_at": "last_interaction_at",
}
COLUMN_ORDERING = {column: name for name, column in ORDERING_COLUMN.items()}

ALL_OWNERS = -1  # LeadOrderCount.owner_id of the rows summed over every owner
NAME_KEY_LENGTH = 100
_SEPARATOR = "\x01"  # below every character a folded name keeps
_WEEK_ZERO = dt.date(1900, 1, 1)  # a Monday; earlier dates share week 0


def fold_name(text: str) -> str:
    """``text`` as a name key holds it: NFKD without accents or control characters, case-folded,
    runs of white space as one space (``" Émile  Zola"`` -> ``"emile zola"``)."""
    text = text or ""
    if text.isascii() and text.isprintable():  # most names: nothing to strip (the CSV import's hot path)
        return " ".join(text.lower().split())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c) and unicodedata.category(c) != "Cc")
    return " ".join(text.casefold().split())


def name_key(last_name: str, first_name: str) -> str:
    """The sort key of a lead's name: last name, then first name, without case or accents
    (``"García", "Ana"`` -> ``"garcia\\x01ana\\x01"``), at most ``NAME_KEY_LENGTH`` characters.

    Stored in ``Lead.name_key`` (a :class:`crm.fields.BinaryCharField`), so the database sorts
    it in the code point order Python does and name buckets are plain prefixes. Every key ends
    with its second separator, so no key is a prefix of another.
    """
    return f"{fold_name(last_name)}{_SEPARATOR}{fold_name(first_name)}{_SEPARATOR}"[:NAME_KEY_LENGTH]


def _value_quantum(whole: int) -> int:
    return 10 ** max(0, len(str(whole)) - 2)


def _week(moment: dt.datetime) -> int:
    return max(0, (moment.astimezone(dt.UTC).date() - _WEEK_ZERO).days // 7)


def _week_start(week: int) -> dt.datetime:
    return dt.datetime.combine(_WEEK_ZERO + dt.timedelta(weeks=week), dt.time.min, tzinfo=dt.UTC)


def bucket(ordering: str, value) -> str:
    """The bucket label of ``value`` (a Lead's value in ``ORDERING_COLUMN[ordering]``)."""
    if ordering == "score":
        return f"{int(value):03d}"
    if ordering == "value":
        value = Decimal(value)  # an instance may hold what was assigned ("12.50"), not the column's type
        if value < 0:
            return "-"  # below "0…"; the API and forms allow no negative value
        whole = int(value)
        quantum = _value_quantum(whole)
        return f"{whole // quantum * quantum:013d}"
    if ordering == "name":
        return value[:2]
    if value is None:  # a lead never interacted with
        return ""
    return f"{_week(value):06d}"


def span_filter(ordering: str, first: str, last: str) -> Q:
    """The rows of buckets ``first`` to ``last`` (labels, ``first <= last``) as a range on the
    ordering's column, bounded on both ends so MariaDB ranges over the index."""
    column = ORDERING_COLUMN[ordering]
    if ordering == "score":
        return Q(**{f"{column}__gte": int(first), f"{column}__lte": int(last)})
    if ordering == "value":
        top = 0 if last == "-" else int(last) + _value_quantum(int(last))
        upper = Q(**{f"{column}__lt": Decimal(top)})
        return upper if first == "-" else upper & Q(**{f"{column}__gte": Decimal(int(first))})
    if ordering == "name":
        return Q(**{f"{column}__gte": first, f"{column}__lt": _after_prefix(last)})
    if last == "":
        return Q(**{f"{column}__isnull": True})
    upper = Q(**{f"{column}__lt": _week_start(int(last) + 1)})
    if first == "":
        return Q(**{f"{column}__isnull": True}) | upper
    if int(first) == 0:
        return upper
    return upper & Q(**{f"{column}__gte": _week_start(int(first))})


def _after_prefix(prefix: str) -> str:
    """The least string above every string that starts with ``prefix`` (code point order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def last_name_of(key: str) -> str:
    """The folded last name a name key starts with (``"garcia\\x01ana\\x01"`` -> ``"garcia"``)."""
    return key.split(_SEPARATOR, 1)[0]


def after_last_name(last_name: str) -> str:
    """The least name key above every key of the folded ``last_name`` (``"smith"`` sorts its
    keys below ``"smith\\x02"``, and ``"smithers"`` above it)."""
    return last_name + chr(ord(_SEPARATOR) + 1)


def full_name_filter(last_name: str, first_text: str) -> Q | None:
    """Live leads whose folded last name is ``last_name`` and whose first name starts with
    ``first_text`` (both folded as :func:`fold_name` does), as one range on ``name_key``. None
    where ``first_text`` folds to nothing or the range's prefix is longer than a key keeps
    (``NAME_KEY_LENGTH``)."""
    first = fold_name(first_text)
    prefix = f"{last_name}{_SEPARATOR}{first}"
    if not first or len(prefix) > NAME_KEY_LENGTH:
        return None
    return Q(deleted_at__isnull=True, name_key__gte=prefix, name_key__lt=_after_prefix(prefix))


def name_prefix_filter(text: str) -> Q | None:
    """Live leads whose last name starts with ``text`` (folded as :func:`fold_name` does), as a
    range on ``name_key`` that MariaDB reads from the (deleted_at, name_key) index: ``LIKE
    BINARY``, what Django's ``startswith`` sends there, is not ranged. None for a ``text``
    that folds to nothing."""
    prefix = fold_name(text)
    if not prefix:
        return None
    return Q(deleted_at__isnull=True, name_key__gte=prefix, name_key__lt=_after_prefix(prefix))


def order_keys(state) -> list[tuple[str, int, str, str]]:
    """``[(ordering, owner_id, status, bucket)]`` a lead with ``state`` (values of
    ``STATE_FIELDS``, in that order) counts under, with ``owner_id`` 0 for unassigned and a
    second row under ``ALL_OWNERS``; ``[]`` for a deleted lead."""
    owner_id, status, deleted_at, score, value, key, updated_at, last_interaction_at = state
    if deleted_at is not None:
        return []
    owner_id = owner_id or 0
    values = (("score", score), ("value", value), ("name", key), ("updated_at", updated_at),
              ("last_interaction_at", last_interaction_at))
    keys = []
    for ordering, column_value in values:
        label = bucket(ordering, column_value)
        keys.append((ordering, owner_id, status, label))
        keys.append((ordering, ALL_OWNERS, status, label))
    return keys


def state_deltas(before, after) -> Counter:
    """The count changes of one lead going from state ``before`` to ``after`` (None: absent)."""
    deltas = Counter()
    for key in order_keys(before) if before is not None else ():
        deltas[key] -= 1
    for key in order_keys(after) if after is not None else ():
        deltas[key] += 1
    return deltas


def bump_states(changes, *, using: str = "default") -> None:
    """Apply the count changes of leads going ``(before, after)`` (states as in
    :func:`state_deltas`) in one :func:`bump`: the model writers' single entry point."""
    deltas = Counter()
    for before, after in changes:
        deltas.update(state_deltas(before, after))
    bump(deltas, using=using)


def created_deltas(leads: list[dict], owner_id: int | None, now: dt.datetime) -> Counter:
    """The count changes of inserting ``leads`` (dicts with ``status``, ``score``, ``value``
    and ``name_key``), all owned by ``owner_id`` and stamped ``now``, never interacted with:
    what :func:`order_keys` would give each, summed per column in a few passes (the CSV
    import's raw inserts)."""
    per_column = {
        "score": Counter((lead["status"], bucket("score", lead["score"])) for lead in leads),
        "value": Counter((lead["status"], bucket("value", lead["value"])) for lead in leads),
        "name": Counter((lead["status"], lead["name_key"][:2]) for lead in leads),
    }
    statuses = Counter(lead["status"] for lead in leads)
    per_column["updated_at"] = Counter({(status, bucket("updated_at", now)): n for status, n in statuses.items()})
    per_column["last_interaction_at"] = Counter({(status, ""): n for status, n in statuses.items()})
    deltas = Counter()
    for ordering, counts in per_column.items():
        for (status, label), n in counts.items():
            deltas[ordering, owner_id or 0, status, label] += n
            deltas[ordering, ALL_OWNERS, status, label] += n
    return deltas


def bump(deltas: Counter, *, using: str = "default", table: str = "leads_leadordercount") -> None:
    """Add ``{(ordering, owner_id, status, bucket): n}`` to the counts in one upsert statement,
    keys sorted so concurrent writers lock rows in the same order. Call inside the write's
    transaction."""
    rows = sorted((key, n) for key, n in deltas.items() if n)
    if not rows:
        return
    connection = connections[using]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(c) for c in ("ordering", "owner_id", "status", "bucket", "n"))
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    params = [p for key, n in rows for p in (*key, n)]
    n = qn("n")
    if connection.vendor == "mysql":
        tail = f"ON DUPLICATE KEY UPDATE {n} = {n} + VALUES({n})"
    else:
        keys = ", ".join(qn(c) for c in ("ordering", "owner_id", "status", "bucket"))
        tail = f"ON CONFLICT ({keys}) DO UPDATE SET {n} = {qn(table)}.{n} + excluded.{n}"
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {qn(table)} ({columns}) VALUES {values} {tail}", params)


def rebuild_order_counts(lead_model, count_model, *, chunk: int = 20_000) -> int:
    """Recompute every ``count_model`` row from the live rows of ``lead_model``, reading the
    table in primary-key chunks of ``chunk`` rows; returns the live leads counted. The models
    are parameters so the migration that adds the counts can run it on its historical ones."""
    counts = Counter()
    live = 0
    last_pk = None
    rows = lead_model._base_manager.filter(deleted_at__isnull=True).order_by("pk")
    with transaction.atomic():
        # Lock the counts before the first read of the leads: a writer that bumped them has
        # committed, so the snapshot holds its row; one that bumps now waits and adds its
        # change on top of the rebuilt counts.
        len(count_model._base_manager.select_for_update().values_list("n"))
        while True:
            page = rows if last_pk is None else rows.filter(pk__gt=last_pk)
            batch = list(page.values_list("pk", *STATE_FIELDS)[:chunk])
            if not batch:
                break
            last_pk = batch[-1][0]
            live += len(batch)
            for row in batch:
                counts.update(order_keys(row[1:]))
        count_model._base_manager.all().delete()
        count_model._base_manager.bulk_create(
            (count_model(ordering=o, owner_id=owner, status=status, bucket=label, n=n)
             for (o, owner, status, label), n in counts.items()), batch_size=2000,
        )
    return live
