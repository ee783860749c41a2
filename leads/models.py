"""Leads (the sales pipeline and the calling state) and CSV import jobs.

Field names follow the seeds: 000/001 (``name``, ``status``, ``source``, ``score``, ``value``,
``ai_summary``), 004 (``first_name``, ``phone_e164``, ``custom_fields``, ``schedule_at``,
``attempts_count``, ``disposition``; its ``status`` is our ``call_status``, DESIGN.md decision 3).
"""

import hashlib
from contextlib import contextmanager

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import connection, connections, models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from crm.fields import BinaryCharField
from crm.ids import uuid7
from crm.phones import InvalidPhoneNumber, normalize_phone
from leads import listcache, order_buckets


def search_id_cap() -> int:
    """A search word with more matches than this (setting ``LEAD_SEARCH_ID_CAP``, default
    1,000) is filtered in the ordered scan instead of by ids."""
    return settings.LEAD_SEARCH_ID_CAP


def search_branches(word: str) -> list[Q]:
    """The index-backed prefix conditions one search word may match (any of them)."""
    branches = [
        Q(first_name__istartswith=word),
        Q(live_email__istartswith=word),
        Q(company__istartswith=word),
    ]
    last_name = order_buckets.name_prefix_filter(word)  # the start of the name's sort key
    if last_name is not None:
        branches.insert(1, last_name)
    digits = "".join(ch for ch in word if ch.isdigit())
    # Mostly digits (allowing + ( ) - . separators): also a phone prefix.
    if len(digits) >= 3 and len(digits) >= len(word.strip("+()-. ")) - 2:
        prefixes = {f"+{digits}"}
        try:
            prefixes.add(normalize_phone(word).e164)
        except InvalidPhoneNumber:
            pass
        branches += [_phone_prefix(prefix) for prefix in sorted(prefixes)]
    return branches


def _phone_prefix(prefix: str) -> Q:
    """Phones (E.164: ``+`` and digits) starting with ``prefix``, as a range MariaDB reads from the
    phone index: Django's ``startswith`` is ``LIKE BINARY`` there, which is not ranged (a scan of
    the whole index, ~100 ms at 1M leads); it stays as the exact check within the range."""
    head = prefix.rstrip("9")
    if not head[-1:].isdigit():  # "+999…": no upper bound needed
        return Q(phone__gte=prefix, phone__startswith=prefix)
    after = head[:-1] + str(int(head[-1]) + 1)  # "+1419" -> "+142": digits sort alike in every collation
    return Q(phone__gte=prefix, phone__lt=after, phone__startswith=prefix)


def search_ids(branches: list[Q], cap: int | None = None) -> set | None:
    """The ids of the leads (live or not: the caller scopes) any of ``branches`` matches, or None
    when there are more than :func:`search_id_cap`. One statement however many branches: a
    ``UNION ALL`` of each branch's ``LIMIT cap + 1`` range scan on its column's index (each
    compiled by the ORM once per shape, :func:`_branch_sql`), where a query per branch cost a
    round trip each. The whole statement stops at ``2 × (cap + 1)`` rows: a word that common is
    too common for ids (a lead matching two branches counts twice there, so a word can be judged
    common a little early — its results are the same, only its total is then "more than" instead
    of exact). ``cap`` overrides :func:`search_id_cap`."""
    cap = search_id_cap() if cap is None else cap
    parts, params = [], []
    for number, branch in enumerate(branches):
        sql, branch_params = _branch_sql(branch, cap)
        parts.append(f"SELECT * FROM ({sql}) b{number}")
        params += branch_params
    with connection.cursor() as cursor:
        cursor.execute(f"{' UNION ALL '.join(parts)} LIMIT {2 * (cap + 1)}", params)
        rows = cursor.fetchall()
    found = {row[0] for row in rows}
    return None if len(rows) >= 2 * (cap + 1) or len(found) > cap else found


def _rare_together(words: list[list[Q]], rows: list[list[int]] | None = None) -> set | None:
    """The leads every word (its :func:`search_branches`) matches, when each word alone has at
    most ``LEAD_SEARCH_INTERSECT_CAP`` matches (on MariaDB: when reading them costs about that)
    and all of them together at most :func:`search_id_cap`; else None. "Smith John": each word
    matches tens of thousands of leads, both a few hundred, which the ordered scan would look
    for through the whole table (0.3–1.2 s at 1M leads). ``rows``: the words' branch estimates
    (:func:`branch_rows`) where the caller has them."""
    if connection.vendor == "mysql" and connection.mysql_is_mariadb:
        if len(words) == 2:
            found = _rare_pairs(*words, rows=rows)
            if found is not _NO_PLAN:
                return found
        return _rare_together_joined(words)
    together = None
    for branches in words:
        found = search_ids(branches, cap=settings.LEAD_SEARCH_INTERSECT_CAP)
        if found is None:
            return None
        together = found if together is None else together & found
    return together if len(together) <= search_id_cap() else None


def _filter_raw_pks(qs, raw_ids):
    """``qs`` narrowed to the primary keys ``raw_ids``, as the database returned them
    (:func:`search_ids`), in a plain ``pk IN (…)`` the primary key index answers. A ``pk__in``
    would turn each into a UUID and back (~3 ms of a 10 ms page for 440 ids), and a boolean
    expression in ``filter()`` compiles to ``(… IN …) = true``, which no index answers."""
    if not raw_ids:
        return qs.none()
    ops = connections[qs.db].ops
    column = f"{ops.quote_name(qs.model._meta.db_table)}.{ops.quote_name(qs.model._meta.pk.column)}"
    # Sorted: the SQL is the key of the memoised matches (LeadFilterSet._ordered_pks), and a
    # set's order differs between processes.
    return qs.extra(where=[f"{column} IN ({', '.join(['%s'] * len(raw_ids))})"], params=sorted(raw_ids))


# A word whose branches the optimizer estimates (ESTIMATE_OVER applied) at more than this many
# times search_id_cap() rows is common without its capped id scan: the estimates were at most
# 1.4x the rows once divided, and a lead matches at most three of a word's branches in practice
# (first name, last name, email), so such a word has well over the cap's matches.
_SURELY_COMMON = 10


def _resolve_words(words: list[str]) -> tuple[set | None, list[int], list[list[int]] | None]:
    """``(ids, common, rows)`` for :meth:`LeadQuerySet.search`: the leads (live or not) every rare
    word matches (None when no word is rare and the common ones are not rare together), the
    positions of the words too common for ids, which the search applies as filters, and those
    words' branch estimates (:func:`branch_rows`; None off MySQL/MariaDB), which a page of a
    common word weighs its paths by (``LeadFilterSet._capped_search_rows``).

    On MySQL/MariaDB one ``EXPLAIN`` of every word's branches first (~1 ms) tells the words far
    too common for ids (``_SURELY_COMMON``) from the others, which are scanned: for "Smith
    John" the two capped id scans that found both words common cost 6 ms of 60 at 1M leads."""
    branches = [search_branches(word) for word in words]
    rows = None  # per word, per branch
    if connection.vendor == "mysql":
        estimates = iter(branch_rows([branch for word in branches for branch in word], _WHOLE))
        rows = [[next(estimates) for _ in word] for word in branches]
    ids, common = None, []
    for number in range(len(words)):
        surely_common = rows is not None and sum(rows[number]) > _SURELY_COMMON * search_id_cap()
        found = None if surely_common else search_ids(branches[number])
        if found is None:
            common.append(number)
        else:
            ids = found if ids is None else ids & found
    if ids is None and len(common) > 1:
        together = _rare_together([branches[number] for number in common],
                                  None if rows is None else [rows[number] for number in common])
        if together is not None:
            return together, [], None
    return ids, common, None if rows is None else [rows[number] for number in common]


# The optimizer's row estimates for the search branches' prefix ranges were 1.0–2.1× the rows
# they hold (1M leads: "fr" 22,370 for 12,161, "Smi" 69,686 for 33,518, "+1415" 3,034 for
# 3,030): divided by this, they are about right.
ESTIMATE_OVER = 1.5


def branch_rows(branches: list[Q], cap: int) -> list[int]:
    """About how many rows each of ``branches``' index scans (some of a word's
    :func:`search_branches`) gives, a lead counting in every branch it matches, live or not: the
    optimizer's estimates from one ``EXPLAIN`` of their ``UNION ALL`` (~0.5 ms), divided by
    ``ESTIMATE_OVER``. Counting them costs ~0.3 µs per row (10–17 ms for "Smi"), as much as
    choosing wrongly near the line where reading them and walking the list cost the same."""
    if not branches:
        return []
    scans, params = _union_of_scans(branches, cap)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {scans}", params)
        names = [description[0] for description in cursor.description]
        rows = {}
        for row in cursor.fetchall():  # one per SELECT, numbered from 1 in the order given
            select, estimate = row[names.index("id")], row[names.index("rows")]
            if select is not None:
                rows[int(select)] = int(int(estimate or 0) / ESTIMATE_OVER)
    return [rows.get(number, 0) for number in range(1, len(branches) + 1)]


def _union_of_scans(branches: list[Q], cap: int) -> tuple[str, list]:
    """``(sql, params)``: the ``UNION ALL`` of ``branches``' ``LIMIT cap + 1`` id scans (a column
    ``pk``), each parenthesized, not a derived table: that would copy every row twice. MySQL/
    MariaDB only: SQLite takes no parenthesized ``SELECT`` in a compound one, so
    :func:`search_ids`, which runs everywhere, wraps each scan in a derived table."""
    parts, params = [], []
    for branch in branches:
        sql, branch_params = _branch_sql(branch, cap)
        parts.append(f"({sql})")
        params += branch_params
    return " UNION ALL ".join(parts), params


# The search branches whose column leads an index that carries after it what a list filters by
# (the scope: deleted_at, owner) and the columns of every ordering but the name
# (SEARCH_COVERED), by that column (Lead.Meta.indexes): a common word's matches there are read
# from the index alone (covered_search_sql); the other branches (email, company, phone) cost a
# row read per match. First and last names hold most of a name prefix's matches; covering every
# branch (with an email index beside the unique one, and the status) cost the CSV import a
# fifth of its speed (10,188 -> 8,014 rows/s), these two nothing measurable (10,075-10,713).
# A search by name reads its own way (NAME_ORDERED_INDEXES), with an email index that carries
# the name key and the owner only.
COVERING_INDEXES = {
    "first_name": "lead_search_first_name",
    "name_key": "lead_live_name_key",
}
SEARCH_COVERED = ["deleted_at", "owner", "created_at", "updated_at", "last_interaction_at", "score", "value"]


def branch_index(branch: Q) -> str | None:
    """The name of the covering index that serves ``branch`` (one of :func:`search_branches`),
    from ``COVERING_INDEXES``; None for the other branches."""
    for lookup, _ in branch.children:
        index = COVERING_INDEXES.get(lookup.split("__")[0])
        if index is not None:
            return index
    return None


# A scan's LIMIT that never cuts it short (_branch_sql compiles one per cap).
_WHOLE = 2**31


def covered_search_sql(unsearched, alone: list[Q], joined: list[Q], stop: int) -> tuple[str, list] | None:
    """``(sql, params)`` of the first ``stop`` rows ``(pk, ordering column)`` of ``unsearched``
    (a list's ordered queryset, its filters without the search: ``ORDER BY <column>, id`` in one
    direction) that match any of ``alone`` and ``joined`` (one word's :func:`search_branches`),
    in one MariaDB statement, where walking the list's own index for matches costs ~0.4 µs per
    entry in the default order and a row read in the others, however few of them match (the
    caller weighs the two). None where the ordering is not a plain column or the SQL not the
    plain one-table ``SELECT`` this builds on.

    * Each of ``alone`` (branches with one of ``COVERING_INDEXES``) gives its own first ``stop``
      from its index: where that carries what the list filters and sorts by (the scope filters
      only, an ordering in ``SEARCH_COVERED``) ~0.7 µs per entry at 1M leads, or, already in the
      list's order (the last-name branch by name), ``stop`` entries. The index is named (``FORCE
      INDEX``): left to choose, MariaDB may walk the list's ordering index instead, a row read
      per entry until it has the page (400 ms for "fr" by value).
    * ``joined``: the ids of their scans (whole: an estimate chose this), distinct, joined to the leads
      by primary key (``STRAIGHT_JOIN``: MariaDB's own plan walks the ordering's index and
      probes the ids), filtered, sorted and cut at ``stop``: ~3.5 µs per id.

    The parts are merged without duplicates. Page 40 of "fr" (6,956 first names, 1,590 last
    names alone, 3,615 emails joined): 20–31 ms, 38–47 ms walked."""
    order_by = [str(name) for name in unsearched.query.order_by]
    column = order_by[0].lstrip("-") if order_by else ""
    if column not in {field.name for field in Lead._meta.concrete_fields} or order_by[1:] not in (["id"], ["-id"]):
        return None
    qn = connection.ops.quote_name
    table = qn(Lead._meta.db_table)
    rows = unsearched.values_list("pk", column)
    parts, params = [], []
    for branch in alone:
        sql, branch_params = rows.filter(branch)[:stop].query.sql_with_params()
        if sql.count(f"FROM {table}") != 1 or " JOIN " in sql:
            return None
        index = branch_index(branch)
        if index is not None:
            sql = with_index(sql, index)
        parts.append(f"({sql})")
        params += branch_params
    if joined:
        sql, list_params = rows[:stop].query.sql_with_params()
        if not sql.startswith("SELECT ") or sql.count(f"FROM {table}") != 1 or " JOIN " in sql:
            return None
        scans, scan_params = _union_of_scans(joined, _WHOLE)
        matches = f"(SELECT DISTINCT pk FROM ({scans}) w0) w"
        sql = sql.replace("SELECT ", "SELECT STRAIGHT_JOIN ", 1).replace(
            f"FROM {table}", f"FROM {matches} JOIN {table} ON {table}.{qn(Lead._meta.pk.column)} = w.pk", 1)
        parts.append(f"({sql})")
        params += scan_params + list(list_params)
    if not parts:
        return None
    pk, key = qn("pk"), qn(column)  # values_list's aliases
    direction = "DESC" if order_by[0].startswith("-") else "ASC"
    return (f"SELECT DISTINCT {pk}, {key} FROM ({' UNION ALL '.join(parts)}) u "
            f"ORDER BY {key} {direction}, {pk} {direction} LIMIT {stop}", params)


# The indexes a search by name reads its branches from (name_ordered_search_rows), by the
# branch's column: the first name's holds a name's leads in name order (name_key, id after
# the first name), the email's carries the name_key, so an email match is judged without its row.
NAME_ORDERED_INDEXES = {
    "first_name": "lead_search_first_name",
    "name_key": "lead_live_name_key",
    "live_email": "lead_search_email",
    "company": "lead_company",
    "phone": "lead_phone",
}


def first_names(branch: Q) -> list[str] | None:
    """The distinct first names (one value per set the column's collation holds equal: "John"
    for "JOHN" too) of the leads, live or not, that ``branch`` (the first-name condition of
    :func:`search_branches`) matches; None past ``LEAD_SEARCH_FIRST_NAMES_MOST``. One loose
    index scan of ``lead_search_first_name`` (a dive per name, ~0.5 ms for the 9 names under
    "jo" at 1M leads)."""
    most = settings.LEAD_SEARCH_FIRST_NAMES_MOST
    where, params = _branch_where(branch)
    qn = connection.ops.quote_name
    sql = with_index(f"SELECT DISTINCT {qn('first_name')} FROM {qn(Lead._meta.db_table)} WHERE {where} "
                     f"LIMIT {most + 1}", NAME_ORDERED_INDEXES["first_name"])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [row[0] for row in cursor.fetchall()]
    return None if len(names) > most else names


def forced_index_sql(rows, index: str) -> tuple[str, list] | None:
    """``(sql, params)`` of ``rows`` (a lead queryset, usually a ``values_list``) read from
    ``index`` (MySQL/MariaDB's ``FORCE INDEX``: left to choose, MariaDB may walk another index
    with a row read per entry, or scan the table where its statistics lag behind its growth);
    None where its SQL is not a one-table ``SELECT``."""
    table = connection.ops.quote_name(Lead._meta.db_table)
    sql, params = rows.query.sql_with_params()
    if sql.count(f"FROM {table}") != 1 or " JOIN " in sql:
        return None
    return with_index(sql, index), list(params)


def with_index(sql: str, index: str) -> str:
    """``sql``, a ``SELECT`` from the lead table, reading it through ``index`` (``FORCE INDEX``)."""
    table = connection.ops.quote_name(Lead._meta.db_table)
    return sql.replace(f"FROM {table}", f"FROM {table} FORCE INDEX ({index})", 1)


def name_ordered_search_rows(unsearched, branches: list[Q], names: list[str], stop: int) -> list[tuple] | None:
    """The first ``stop`` rows ``(pk, name_key)`` of ``unsearched`` (a list's queryset without
    its search, ordered by name: ``ORDER BY name_key, id`` in one direction, filtered by the
    scope only: ``deleted_at`` and the owner) that match any of ``branches`` (one word's
    :func:`search_branches`, its first names ``names`` from :func:`first_names`), on MariaDB.
    None where the ordering or the SQL is not that.

    Walking the name's index for matches reads every lead before the page (page 50 of "John"
    for a seller: ~100,000 entries, 0.3 s with the row reads), and reading the branches whole
    reads every match (34,000 rows for "jo"). Instead, two statements:

    1. The branches that can be read in the list's order, each to its ``stop``-th row: the
       last name's (``lead_live_name_key``) and, per first name in ``names``, that name's leads
       (``lead_search_first_name`` holds them by ``name_key, id`` after the first name), merged
       to their first ``stop``. The last of them, ``K``, bounds the page: the other branches'
       rows can only come before it.
    2. The other branches (email, from ``lead_search_email``, which carries the ``name_key``;
       company and phone, a row read each) up to ``K``: a few hundred rows.

    The two are merged in Python by ``(name_key, pk)``: the order MariaDB gives, for
    ``name_key`` is binary (code points) and the ids are UUIDs, compared as their text
    (``crm.ids.uuid7``; MariaDB 10.11 compares UUIDs other than version 1 byte by byte).
    Page 50 of "John" (14,471 first names, 6,495 emails) 11–14 ms, page 40 of "jo" (9 first
    names, 24,793 emails) 33–37 ms, where the other plans took 80–200 ms (docs/benchmarks.md,
    "night: searches by name read in name order")."""
    order_by = [str(name) for name in unsearched.query.order_by]
    if order_by not in (["name_key", "id"], ["-name_key", "-id"]):
        return None
    descending = order_by[0].startswith("-")
    rows = unsearched.values_list("pk", "name_key")
    ordered, others = [], []
    for branch in branches:
        column = branch_column(branch)
        if column not in NAME_ORDERED_INDEXES:
            return None
        if column == "first_name":
            ordered += [(rows.filter(branch, first_name=name), column) for name in names]
        elif column == "name_key":
            ordered.append((rows.filter(branch), column))
        else:
            others.append((rows.filter(branch), column))
    parts = [forced_index_sql(part[:stop], NAME_ORDERED_INDEXES[column]) for part, column in ordered]
    if not parts or None in parts:
        return None
    qn = connection.ops.quote_name
    pk, key = qn("pk"), qn("name_key")
    direction = "DESC" if descending else "ASC"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT {pk}, {key} FROM ({' UNION ALL '.join(f'({sql})' for sql, _ in parts)}) u "
                       f"ORDER BY {key} {direction}, {pk} {direction} LIMIT {stop}",
                       [param for _, params in parts for param in params])
        found = list(cursor.fetchall())
        if others:
            # Fewer than `stop` rows in order: nothing bounds the others (each cut at `stop`).
            bound = {"name_key__gte" if descending else "name_key__lte": found[-1][1]} if len(found) >= stop else {}
            parts = [forced_index_sql(part.filter(**bound)[:stop], NAME_ORDERED_INDEXES[column])
                     for part, column in others]
            if None in parts:
                return None
            cursor.execute(" UNION ALL ".join(f"({sql})" for sql, _ in parts),
                           [param for _, params in parts for param in params])
            found += cursor.fetchall()
    merged = sorted(dict(found).items(), key=lambda row: (row[1], row[0]), reverse=descending)
    return merged[:stop]


# Rows MariaDB examines per word match when joining the words' id sets: each index entry read,
# its copy into the derived table and the probe of the next word's (measured: ~215,000 for
# "Smith John", 32,424 and 40,353 branch rows, at 1M leads).
_EXAMINED_PER_MATCH = 3


def _rare_together_joined(words: list[list[Q]]) -> set | None:
    """:func:`_rare_together` in one MariaDB statement: each word's branch scans (as
    :func:`search_ids` runs them) form a derived table, the tables are joined on the id, and only
    the at most ``search_id_cap() + 1`` common ids come back (~27 ms for "Smith John" at 1M
    leads, where two id sets read into Python and intersected there took ~50 ms).

    Too common is MariaDB's ``LIMIT ROWS EXAMINED`` (its own clause, MariaDB KB "LIMIT ROWS
    EXAMINED"): past ``_EXAMINED_PER_MATCH × LEAD_SEARCH_INTERSECT_CAP`` rows per word the
    statement stops with warning 1931 and the words count as too common. Each branch's own
    ``LIMIT`` is above that budget, so a branch is never cut short unless the whole statement
    is."""
    budget = _EXAMINED_PER_MATCH * settings.LEAD_SEARCH_INTERSECT_CAP * len(words)
    tables, params = [], []
    for number, branches in enumerate(words):
        scans, scan_params = _union_of_scans(branches, budget)
        params += scan_params
        table = f"({scans}) w{number}"
        tables.append(table if number == 0 else f"{table} ON w{number}.pk = w0.pk")
    cap = search_id_cap()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT w0.pk FROM {' JOIN '.join(tables)} LIMIT {cap + 1} ROWS EXAMINED {budget}",
                       params)
        found = {row[0] for row in cursor.fetchall()}
        if _examined_too_many(cursor):
            return None
    return found if len(found) <= cap else None


def _examined_too_many(cursor) -> bool:
    """Whether the statement just run on ``cursor`` stopped at its ``LIMIT ROWS EXAMINED``
    (MariaDB's warning 1931, ER_QUERY_EXCEEDED_ROWS_EXAMINED_LIMIT)."""
    if not connection.connection.warning_count():
        return False
    cursor.execute("SHOW WARNINGS")
    return any(code == 1931 for _, code, _ in cursor.fetchall())


# _rare_pairs: no cheap plan for some pair of branches (the words are then joined whole).
_NO_PLAN = object()
# At most this many distinct last names under a last-name prefix are each read as a full-name
# range with a first name (an index dive each, ~0.3 ms); more, and the words are joined whole.
_LAST_NAMES_MOST = 16


def _rare_pairs(first: list[Q], second: list[Q], rows: list[list[int]] | None = None):
    """:func:`_rare_together` for two words (their :func:`search_branches`), read pair of
    branches by pair of branches (one of each word) where joining the words' whole id scans
    would read every match of both (~82,000 index entries for "Smith John" at 1M leads: 53-59
    ms on a slow VM, 31-38 ms by pairs). A set of ids (live or not: the caller scopes), None
    when more than :func:`search_id_cap` (or past :func:`_rare_together_joined`'s budget of rows
    examined), or ``_NO_PLAN`` where that join is the cheaper one: when the words' scans
    together are estimated at less than half of ``LEAD_SEARCH_INTERSECT_CAP`` rows (each pair
    costs a plan, ~0.4 ms), or for a pair below.

    One ``EXPLAIN`` estimates every branch (:func:`branch_rows`; ``rows``, where the caller
    has them), and one statement reads:

    * each rare branch (at most :func:`search_id_cap` estimated rows): its ids, then their rows,
      kept where the other word matches (a row read each);
    * each pair of common branches on one column: both conditions, from the ranges'
      intersection (mostly empty: "smith" and "john" last names);
    * a common last-name prefix with a common first name ("Smith" with "John"): one
      ``name_key`` range per distinct last name under the prefix (``smith\\x01john``), found
      by an index dive each; ``_NO_PLAN`` past ``_LAST_NAMES_MOST`` of them. The key is folded
      (``leads.order_buckets.fold_name``) and the first name's own condition is kept, so a
      name the collation and the folding disagree on is missed, never wrongly found;
    * an email prefix with a last name: the email's range of ``lead_search_email``, which
      carries the name key (6,495 entries for "john" emails with "smith" last names, where
      reading the 32,424 last names' ids as below took 22-38 ms; "Smith John" in all 18-26 ms
      on a VM where it took 64-66 ms);
    * any other pair of common branches: the rarer one's ids among the other's (MariaDB
      materializes them).

    (figures: docs/benchmarks.md, "before midnight: two common words by pairs")"""
    estimates = rows[0] + rows[1] if rows else branch_rows(first + second, _WHOLE)
    if sum(estimates) * 2 < settings.LEAD_SEARCH_INTERSECT_CAP:
        return _NO_PLAN
    words = [list(zip(first, estimates[: len(first)], strict=True)),
             list(zip(second, estimates[len(first):], strict=True))]
    rare = search_id_cap()
    common = [[branch for branch, rows in word if rows > rare] for word in words]
    parts = [_rare_branch_sql(branch, [other for other, _ in words[1]]) for branch, rows in words[0] if rows <= rare]
    if common[0]:
        parts += [_rare_branch_sql(branch, common[0]) for branch, rows in words[1] if rows <= rare]
    for a, rows_a in words[0]:
        for b, rows_b in words[1]:
            if rows_a > rare and rows_b > rare:
                part = _common_pair_sql(a, rows_a, b, rows_b)
                if part is None:
                    return _NO_PLAN
                if part[0]:
                    parts.append(part)
    if not parts:
        return set()
    budget = _EXAMINED_PER_MATCH * settings.LEAD_SEARCH_INTERSECT_CAP * 2
    params = [param for _, part_params in parts for param in part_params]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT pk FROM ({' UNION ALL '.join(sql for sql, _ in parts)}) p "
                       f"LIMIT {rare + 1} ROWS EXAMINED {budget}", params)
        found = {row[0] for row in cursor.fetchall()}
        if _examined_too_many(cursor):
            return None
    return found if len(found) <= rare else None


def branch_column(branch: Q) -> str:
    """The lead column a :func:`search_branches` condition ranges over."""
    return next(lookup.split("__")[0] for lookup, _ in branch.children if not lookup.startswith("deleted_at"))


def _rare_branch_sql(branch: Q, others: list[Q]) -> tuple[str, list]:
    """``(sql, params)``: the ids ``branch`` matches whose rows match any of ``others``, read
    from ``branch``'s own scan (``STRAIGHT_JOIN``: left to choose, MariaDB may walk a wide
    range of the other condition's index with a row filter, 140-200 ms for "Kowalski ana")."""
    qn = connection.ops.quote_name
    table, pk = qn(Lead._meta.db_table), qn(Lead._meta.pk.column)
    scan, params = _branch_sql(branch, _WHOLE)
    wheres = [_branch_where(other) for other in others]
    return (f"(SELECT STRAIGHT_JOIN {table}.{pk} AS {qn('pk')} FROM ({scan}) d "
            f"JOIN {table} ON {table}.{pk} = d.{qn('pk')} WHERE {' OR '.join(f'({sql})' for sql, _ in wheres)})",
            params + [param for _, where_params in wheres for param in where_params])


def _common_pair_sql(a: Q, rows_a: int, b: Q, rows_b: int) -> tuple[str, list] | None:
    """``(sql, params)`` of the ids two common branches both match (:func:`_rare_pairs` says
    how each pair is read); ``("", [])`` where none can; None where no plan is cheap."""
    qn = connection.ops.quote_name
    table, pk = qn(Lead._meta.db_table), qn(Lead._meta.pk.column)
    select = f"SELECT {table}.{pk} AS {qn('pk')} FROM {table} WHERE "
    columns = {branch_column(a): a, branch_column(b): b}
    if len(columns) == 1:
        (where_a, params_a), (where_b, params_b) = _branch_where(a), _branch_where(b)
        return f"({select}{where_a} AND {where_b})", params_a + params_b
    if set(columns) == {"name_key", "first_name"}:
        return _full_name_sql(columns["name_key"], columns["first_name"], select)
    if set(columns) == {"name_key", "live_email"}:
        # The email's index carries the name key: the emails' range alone, no id set read
        # ("john" emails with "smith" last names: 6,495 entries, where the ids of 32,424 last
        # names were read and probed).
        (email, email_params), (name, name_params) = (_branch_where(columns["live_email"]),
                                                      _branch_where(columns["name_key"]))
        forced = with_index(select, NAME_ORDERED_INDEXES["live_email"])
        return f"({forced}{email} AND {name})", email_params + name_params
    small, big = (a, b) if rows_a <= rows_b else (b, a)
    where, params = _branch_where(small)
    # The other's ids as a derived table (its LIMIT keeps MariaDB from merging it back into a
    # join that reads a row per id).
    big_sql, big_params = _branch_sql(big, _WHOLE)
    return f"({select}{where} AND {table}.{pk} IN (SELECT {qn('pk')} FROM ({big_sql}) d))", params + big_params


def _full_name_sql(last_name: Q, first_name: Q, select: str) -> tuple[str, list] | None:
    """The pair of a last-name prefix branch and a first-name branch as ``name_key`` ranges
    (:func:`_rare_pairs`): ``(sql, params)``, ``("", [])`` where no lead has the last name,
    None past ``_LAST_NAMES_MOST`` last names or where a range cannot be made."""
    bounds = dict(last_name.children)
    last_names = _last_names(bounds["name_key__gte"], bounds["name_key__lt"], _LAST_NAMES_MOST)
    if last_names is None:
        return None
    if not last_names:
        return "", []
    text = dict(first_name.children)["first_name__istartswith"]
    ranges = Q()
    for name in last_names:
        full = order_buckets.full_name_filter(name, text)
        if full is None:
            return None
        ranges |= full
    where, params = _branch_where(ranges & first_name)
    return f"({select}{where})", params


def _last_names(low: str, high: str, most: int) -> list[str] | None:
    """The distinct folded last names of the live leads whose ``name_key`` is in ``[low,
    high)``, in order: one dive into the (deleted_at, name_key) index per name, skipping the
    rest of its keys (a loose index scan, which MariaDB does not do for a range). None past
    ``most`` names."""
    qn = connection.ops.quote_name
    table, key, deleted = qn(Lead._meta.db_table), qn("name_key"), qn("deleted_at")
    sql = (f"SELECT {key} FROM {table} WHERE {deleted} IS NULL AND {key} >= %s AND {key} < %s "
           f"ORDER BY {key} LIMIT 1")
    names, start = [], low
    with connection.cursor() as cursor:
        while len(names) <= most:
            cursor.execute(sql, [start, high])
            row = cursor.fetchone()
            if row is None:
                return names
            names.append(order_buckets.last_name_of(row[0]))
            start = order_buckets.after_last_name(names[-1])
    return None


# (database vendor, the branch's lookups) -> its WHERE clause, compiled by the ORM once:
# compiling five branches per word cost more than running them (~0.2 ms each).
_BRANCH_WHERE: dict[tuple, str] = {}


def _branch_where(branch: Q) -> tuple[str, list]:
    """``(sql, params)`` of one :func:`search_branches` condition as a WHERE clause on the lead
    table (no ``WHERE`` keyword).

    Branches differ only in their prefix, so the SQL of a branch shape is compiled by the ORM
    the first time and reused; the params are the prefixes escaped as Django's ``startswith``
    lookups escape them, and other values as they are. A shape whose ORM params differ from
    that, or a condition of nested ones (:func:`_full_name_sql`'s), is compiled every time."""
    key = params = None
    if all(isinstance(child, tuple) for child in branch.children):  # (lookup, value) leaves only
        key = (connection.vendor, branch.connector, branch.negated, tuple(lookup for lookup, _ in branch.children))
        params = [connection.ops.prep_for_like_query(value) + "%" if lookup.endswith("startswith") else value
                  for lookup, value in branch.children if not lookup.endswith("__isnull")]
        if key in _BRANCH_WHERE:
            return _BRANCH_WHERE[key], params
    sql, orm_params = Lead.objects.filter(branch).order_by().values_list("pk").query.sql_with_params()
    where = sql.split(" WHERE ", 1)[1]
    if key is not None and list(orm_params) == params:
        _BRANCH_WHERE[key] = where
    return where, list(orm_params)


def _branch_sql(branch: Q, cap: int) -> tuple[str, list]:
    """``(sql, params)`` of one :func:`search_branches` condition's ``LIMIT cap + 1`` id scan,
    its one column named ``pk`` (:func:`_branch_where`)."""
    where, params = _branch_where(branch)
    qn = connection.ops.quote_name
    table = qn(Lead._meta.db_table)
    return f"SELECT {table}.{qn(Lead._meta.pk.column)} AS {qn('pk')} FROM {table} WHERE {where} LIMIT {cap + 1}", params


class LeadQuerySet(models.QuerySet):
    """Read fragments (STYLE.md 3): scoping, prefetching, search. The bulk writers below add to
    Django's own the lead-list cache invalidation (leads/listcache.py) and, where a write moves
    leads between list buckets, the bucket counts (``LeadOrderCount``, leads/order_buckets.py)."""

    def update(self, **kwargs):
        """Django's update; when a column of ``order_buckets.KEY_FIELDS`` changes, the rows'
        previous state is read (and locked) first — one tuple per row in memory, so a change of
        such a column over a very large set belongs in batches — and the counts follow."""
        if not order_buckets.KEY_FIELDS & set(kwargs):
            listcache.bump()
            return super().update(**kwargs)
        with self._moving_buckets() as rows:
            done = models.QuerySet.update(rows, **kwargs)
            if {"first_name", "last_name"} & set(kwargs):  # the names may be expressions: reread them
                keys = [When(pk=pk, then=Value(order_buckets.name_key(last, first)))
                        for pk, last, first in rows.values_list("pk", "last_name", "first_name")]
                models.QuerySet.update(rows, name_key=Case(*keys, default=F("name_key"),
                                                           output_field=self.model._meta.get_field("name_key")))
        return done

    def bulk_create(self, objs, *args, **kwargs):
        listcache.bump()
        objs = list(objs)
        for obj in objs:
            obj.name_key = order_buckets.name_key(obj.last_name, obj.first_name)
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            order_buckets.bump_states(((None, obj.order_state()) for obj in created), using=self.db)
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        """Django's bulk_update, keeping ``name_key``; the bucket counts follow through the
        ``update()`` it runs per batch."""
        listcache.bump()
        objs, fields = list(objs), set(fields)
        if {"first_name", "last_name"} & fields:
            for obj in objs:
                obj.name_key = order_buckets.name_key(obj.last_name, obj.first_name)
            fields.add("name_key")
        return super().bulk_update(objs, fields, *args, **kwargs)

    def delete(self):
        listcache.bump()
        with transaction.atomic(using=self.db):
            before = self.filter(deleted_at__isnull=True)._order_states()
            deleted = super().delete()
            order_buckets.bump_states(((state, None) for state in before.values()), using=self.db)
        return deleted

    def update_raw(self, write) -> None:
        """Run ``write()``, a change of these rows in raw SQL (where the ORM's per-value work
        costs too much, e.g. the call scheduler's claim of 2,000 leads), keeping what
        :meth:`update` keeps: the list cache and the bucket counts, from the rows' state read
        (and locked) before and after ``write()``, in one transaction. ``write`` must not add or
        delete rows."""
        with self._moving_buckets():
            write()

    @contextmanager
    def _moving_buckets(self):
        """Around a write of these rows that may move them between list buckets: bumps the list
        cache, opens a transaction, reads (and locks) the rows' state, yields the rows selected
        by primary key (the write may change what selected them), then rereads their state and
        applies the count changes."""
        listcache.bump()
        with transaction.atomic(using=self.db):
            before = self._order_states()
            rows = self.model.objects.using(self.db).filter(pk__in=before)
            yield rows
            after = rows.order_by().values_list("pk", *order_buckets.STATE_FIELDS)
            order_buckets.bump_states(((before[pk], tuple(state)) for pk, *state in after), using=self.db)

    def _order_states(self) -> dict:
        """``{pk: values of order_buckets.STATE_FIELDS}`` of these rows, locked until the
        transaction ends (their bucket counts change with them)."""
        rows = self.order_by().select_for_update().values_list("pk", *order_buckets.STATE_FIELDS)
        return {row[0]: row[1:] for row in rows}

    def live(self):
        return self.filter(deleted_at__isnull=True)

    def visible_to(self, user):
        """Live leads ``user`` may read: all for managers/admins, own + unassigned for sales."""
        qs = self.live()
        if user is None or not user.is_authenticated:
            return qs.none()
        if user.sees_all:
            return qs
        return qs.filter(Q(owner=user) | Q(owner__isnull=True))

    def with_list_related(self):
        """Leads with their owner in the same query."""
        return self.select_related("owner")

    def search(self, text: str):
        """Prefix search over first/last name, email, company and phone; every word must match.

        A full name ("Alice Johnson") matches first and last name together; digits match phones
        with or without their country code. Rare words (at most :func:`search_id_cap` matches) are
        resolved to ids through index-only range scans on each column's own index, which stays
        fast at any table size; a word more common than that is applied as an OR filter, which
        the ordered index scan satisfies quickly because matches are dense — unless several such
        words are rare together, which :func:`_rare_together` resolves to ids. ``search_capped``
        on the returned queryset's query tells whether every word was that common (and the
        total is then reported as "more than search_id_cap()").
        """
        words = text.split()[:5]
        # Memoised at the list's version: paging through a search, or the same search by others,
        # resolves its words (an id scan each, ~1–3 ms; an intersection ~30 ms at 1M leads)
        # once until a lead is written.
        key = "words:{}:{}:{}".format(search_id_cap(), settings.LEAD_SEARCH_INTERSECT_CAP,
                                       hashlib.sha1("\x00".join(words).encode()).hexdigest())
        ids, common_words, common_rows = listcache.memo(key, lambda: _resolve_words(words))
        common = [search_branches(words[number]) for number in common_words]
        qs = self
        if ids is not None:
            qs = _filter_raw_pks(qs, ids)
        for branches in common:
            match = Q()
            for branch in branches:
                match |= branch
            qs = qs.filter(match)
        # Capped only when no word was rare: with one rare word the candidates are at most
        # search_id_cap() ids, cheap to count exactly (search_bounded: a list may read them all).
        qs.query.search_capped = ids is None and bool(common)
        qs.query.search_bounded = ids is not None
        qs.query.search_common = [words[number] for number in common_words]
        qs.query.search_common_rows = common_rows
        return qs

    def fast_count(self) -> tuple[int, bool]:
        """``(count, exact)`` without scanning a million rows: counts at most
        ``settings.LEAD_COUNT_CAP + 1`` rows (above it a list reports "at least N").

        After a search with a word too common to resolve by ids, counting would scan the table:
        the answer is then "more than :func:`search_id_cap`" without a query.
        """
        if getattr(self.query, "search_capped", False):
            return search_id_cap(), False
        cap = settings.LEAD_COUNT_CAP
        capped = self.order_by().values("pk")[: cap + 1].count()
        if capped <= cap:
            return capped, True
        return cap, False


class Lead(models.Model):
    """A potential customer moving through the pipeline and, optionally, an AI calling queue.

    ``phone`` is E.164 (``+14155552671``), ``phone_extension`` digits; ``phone_verified`` is
    False where libphonenumber cannot confirm the number is assigned. ``live_email`` is the
    lower-cased email while the lead is live and NULL once deleted: its unique index enforces
    "one live lead per email" on MySQL, which has no partial unique indexes.
    """

    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        INTERESTED = "interested", "Interested"
        QUALIFIED = "qualified", "Qualified"
        PROPOSAL = "proposal", "Proposal"
        CLOSED = "closed", "Closed (won)"
        LOST = "lost", "Lost"

    class CallStatus(models.TextChoices):
        NEW = "new", "New"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    class Disposition(models.TextChoices):
        COMPLETED = "completed", "Completed"
        NO_ANSWER = "no_answer", "No answer"
        NOT_INTERESTED = "not_interested", "Not interested"
        HUNG_UP = "hung_up", "Hung up"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150, blank=True, default="")
    # Sort key of the name (last, then first; no case or accents): ordering=name sorts by it,
    # in code point order on every backend (leads.order_buckets.name_key). Set by save().
    name_key = BinaryCharField(max_length=order_buckets.NAME_KEY_LENGTH, default="", editable=False)
    email = models.EmailField(max_length=254, blank=True, default="")
    live_email = models.CharField(max_length=254, null=True, blank=True, unique=True, editable=False)
    phone = models.CharField(max_length=20, blank=True, default="")
    phone_extension = models.CharField(max_length=10, blank=True, default="")
    phone_verified = models.BooleanField(default=False)
    company = models.CharField(max_length=200, blank=True, default="")
    job_title = models.CharField(max_length=150, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    source = models.CharField(max_length=50, blank=True, default="")
    score = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    value = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    # The calling agent (seed 004's agent_id). A plain id for now: the calling app, which
    # depends on leads, owns the Agent table.
    agent_id = models.UUIDField(null=True, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    ai_summary = models.TextField(blank=True, default="")
    schedule_at = models.DateTimeField(null=True, blank=True)
    attempts_count = models.PositiveIntegerField(default=0)
    call_status = models.CharField(max_length=16, choices=CallStatus.choices, default=CallStatus.NEW)
    disposition = models.CharField(max_length=16, choices=Disposition.choices, blank=True, default="")
    last_interaction_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    import_job = models.ForeignKey(
        "leads.LeadImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Set once by lead conversion (issue 3): the contact this lead became, and when.
    converted_contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="converted_leads"
    )
    converted_at = models.DateTimeField(null=True, blank=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # Every list filter and ordering has an index led by deleted_at, since every list
        # reads live leads only (deleted_at IS NULL).
        indexes = [
            # The default order, with the id, the owner and the searched columns after
            # created_at: a page's ids come from this index alone, a sales user's scope (own +
            # unassigned) and the words of a search too common for ids (LeadQuerySet.search)
            # checked inside it, where a row read per entry made page 50 of "Smi" cost 49-80 ms
            # at 1M leads (now 17-30). A narrow (deleted_at, created_at, id, owner) index beside
            # it went when the search branches' indexes grew (its share of the CSV import's
            # writes paid for theirs); MariaDB 10.11 reads every default-order page from this one.
            models.Index(fields=["deleted_at", "created_at", "id", "owner", "first_name", "name_key", "company",
                                 "live_email", "phone"], name="lead_live_created_search"),
            # The other orderings carry the owner after the id too: a seller's page (own +
            # unassigned) is then filtered inside the index in the order's own sequence, where
            # reading each row to check its owner took seconds for a deep page. (The id before
            # the owner keeps "ORDER BY <column>, id" an index read, not a sort.)
            models.Index(fields=["deleted_at", "updated_at", "id", "owner"], name="lead_live_updated"),
            models.Index(fields=["deleted_at", "last_interaction_at", "id", "owner"], name="lead_live_last_inter"),
            models.Index(fields=["deleted_at", "score", "id", "owner"], name="lead_live_score"),
            models.Index(fields=["deleted_at", "value", "id", "owner"], name="lead_live_value"),
            # Ordering by name, and the last-name branch of a search (which reads live leads only),
            # with the other orderings' columns after the owner as the first name's index has them.
            models.Index(fields=["deleted_at", "name_key", "id", "owner", "created_at", "updated_at",
                                 "last_interaction_at", "score", "value"], name="lead_live_name_key"),
            models.Index(fields=["status", "deleted_at", "created_at"], name="lead_status_created"),
            # The dashboard's rollup of won/lost leads by the day they got there (revenue by close date).
            models.Index(fields=["status", "deleted_at", "status_changed_at"], name="lead_status_changed"),
            models.Index(fields=["call_status", "deleted_at", "created_at"], name="lead_callstatus_created"),
            models.Index(fields=["owner", "deleted_at", "created_at"], name="lead_owner_created"),
            models.Index(fields=["source", "deleted_at", "created_at"], name="lead_source_created"),
            # The calling scheduler's queue: an agent's due leads (call_status new/in progress,
            # schedule_at null or past) are ranges of this index, walked in (schedule_at, id) order.
            models.Index(fields=["agent_id", "call_status", "schedule_at"], name="lead_call_queue"),
            # One index per search branch, so each branch of a search's OR is a range scan. The
            # first name's (COVERING_INDEXES), like the name's above, carries the scope and the
            # orderings' columns (SEARCH_COVERED): a common word's page is read from them alone
            # (covered_search_sql). Every index costs each inserted row (a CSV import writes
            # 100,000 at a time). lead_phone also serves the duplicate checks (a phone, for an
            # agent or not): a number has a handful of rows at most, so no (agent_id, phone)
            # index is needed.
            # The first name's index holds a name's leads in name order after it (name_key, id),
            # and the email's carries the name_key: a search by name reads them up to its page
            # (name_ordered_search_rows), where walking the name's index for matches read every
            # lead before it. Neither cost the CSV import anything measurable (four interleaved
            # runs each, 1M leads: 6,829 rows/s without them, 6,853 with; docs/benchmarks.md).
            models.Index(fields=["first_name", "deleted_at", "name_key", "id", *SEARCH_COVERED[1:]],
                         name="lead_search_first_name"),
            models.Index(fields=["live_email", "deleted_at", "name_key", "owner"], name="lead_search_email"),
            models.Index(fields=["company"], name="lead_company"),
            models.Index(fields=["phone"], name="lead_phone"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=100), name="lead_score_0_100"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """Full name (seeds 000-002's ``name``)."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def sync_live_email(self) -> None:
        """Set ``live_email`` from ``email`` and ``deleted_at`` (bulk writers call this; save() does)."""
        email = (self.email or "").strip().lower()
        self.live_email = email if email and self.deleted_at is None else None

    def order_state(self) -> tuple:
        """This lead's values of ``order_buckets.STATE_FIELDS`` (which list buckets it counts in)."""
        return tuple(getattr(self, name) for name in order_buckets.STATE_FIELDS)

    def save(self, *args, **kwargs):
        """Save, keeping ``live_email``, ``name_key`` and the list's bucket counts
        (``LeadOrderCount``) in step, in one transaction. The row's previous state is read
        (and locked) first: an instance loaded earlier may be stale."""
        self.sync_live_email()
        self.name_key = order_buckets.name_key(self.last_name, self.first_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            update_fields = kwargs["update_fields"] = {*update_fields, "live_email", "updated_at", "name_key"}
        listcache.bump()
        using = kwargs.get("using") or "default"
        with transaction.atomic(using=using):
            before = None
            if not self._state.adding:
                before = Lead.objects.using(using).filter(pk=self.pk)._order_states().get(self.pk)
            super().save(*args, **kwargs)
            after = self.order_state()
            if before is not None and update_fields is not None:
                # Columns the save did not write keep the row's values, whatever this instance holds.
                written = {self._meta.get_field(name).attname for name in update_fields}
                after = tuple(new if name in written else old
                              for name, old, new in zip(order_buckets.STATE_FIELDS, before, after, strict=True))
            order_buckets.bump_states([(before, after)], using=using)

    def delete(self, *args, **kwargs):
        listcache.bump()
        using = kwargs.get("using") or "default"
        with transaction.atomic(using=using):
            before = Lead.objects.using(using).filter(pk=self.pk)._order_states().get(self.pk)
            deleted = super().delete(*args, **kwargs)
            order_buckets.bump_states([(before, None)], using=using)
        return deleted


class StageCountQuerySet(models.QuerySet):
    """Reads shared by the two rollups below: restrict to owners and statuses, sum."""

    def scoped(self, owner_ids: list[int] | None = None, statuses: list[str] | None = None):
        """Rows of these owners (0 = unassigned) and statuses; None means all."""
        qs = self
        if owner_ids is not None:
            qs = qs.filter(owner_id__in=owner_ids)
        if statuses is not None:
            qs = qs.filter(status__in=statuses)
        return qs

    def total_for(self, owner_ids: list[int] | None = None, statuses: list[str] | None = None) -> int:
        """The sum of ``n`` over ``scoped(owner_ids, statuses)``, as one hand-written
        ``SELECT SUM(n)``: every list request asks for it, and building it through the ORM
        costs more than running it."""
        connection = connections[self.db]
        qn = connection.ops.quote_name
        where, params = [], []
        for column, values in (("owner_id", owner_ids), ("status", statuses)):
            if values is not None:
                if not values:
                    return 0
                where.append(f"{qn(column)} IN ({', '.join(['%s'] * len(values))})")
                params += values
        sql = f"SELECT SUM({qn('n')}) FROM {qn(self.model._meta.db_table)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.fetchone()[0] or 0)


class LeadStageCount(models.Model):
    """Live leads per (owner, pipeline status), kept exact by ``leads.services`` on every write.

    Lists, board columns and the pipeline read their totals here instead of ``COUNT(*)`` over a
    million rows (80 ms at 1M). ``owner_id`` 0 means unassigned (a NULL would defeat the unique
    key on MySQL). ``manage.py rebuild_lead_counts`` recomputes it from the leads table.
    """

    owner_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Lead.Status.choices)
    n = models.BigIntegerField(default=0)

    objects = StageCountQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner_id", "status"], name="leadstagecount_owner_status")]

    def __str__(self) -> str:
        return f"owner {self.owner_id or '-'} / {self.status}: {self.n}"


class LeadStageDayCount(models.Model):
    """Live leads per (owner, pipeline status, UTC day of ``created_at``), kept exact beside
    :class:`LeadStageCount` by the same writes (``leads.services.stage_counts_bump``), with
    :class:`LeadStageMonthCount` above it.

    What they are for: finding a deep page of the list in its default order (newest first, or
    oldest first) without reading every row before it. The month sums give the month that holds
    row ``offset``, that month's day sums the day, and the page is then read from that day on
    with an offset smaller than one day's leads (``LeadFilterSet.page_ids``). An ``OFFSET
    500000`` walks half a million index entries (~90 ms at 1M leads); this reads a few
    thousand counter rows.
    """

    owner_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Lead.Status.choices)
    day = models.DateField()
    n = models.BigIntegerField(default=0)

    objects = StageCountQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner_id", "status", "day"],
                                               name="leadstagedaycount_owner_status_day")]
        # Covers the page lookup (a month's days, any owners and statuses) without row reads.
        indexes = [models.Index(fields=["day", "owner_id", "status", "n"], name="leadstagedaycount_day")]

    def __str__(self) -> str:
        return f"owner {self.owner_id or '-'} / {self.status} / {self.day}: {self.n}"


class LeadStageMonthCount(models.Model):
    """Live leads per (owner, pipeline status, UTC month of ``created_at``; ``month`` is its
    first day): the upper tier of :class:`LeadStageDayCount`, kept by the same writes."""

    owner_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Lead.Status.choices)
    month = models.DateField()
    n = models.BigIntegerField(default=0)

    objects = StageCountQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner_id", "status", "month"],
                                               name="leadstagemonthcount_owner_status_month")]
        indexes = [models.Index(fields=["owner_id", "status", "month", "n"], name="leadstagemonthcount_cover")]

    def __str__(self) -> str:
        return f"owner {self.owner_id or '-'} / {self.status} / {self.month:%Y-%m}: {self.n}"


class LeadOrderCount(models.Model):
    """Live leads per (list ordering, owner, pipeline status, bucket of that ordering's column):
    how a deep page in an order other than ``created_at`` is found without walking the index
    (``leads.order_buckets`` defines the buckets; ``LeadFilterSet.page_ids`` reads them).

    ``owner_id`` 0 is unassigned and -1 (``order_buckets.ALL_OWNERS``) the sum over every owner,
    so a manager's page sums one row per (status, bucket). Kept by the lead model's writers in
    the same transaction, rebuilt nightly by ``manage.py rebuild_lead_counts``.
    """

    class Ordering(models.TextChoices):
        SCORE = "score", "Score"
        VALUE = "value", "Value"
        NAME = "name", "Name"
        UPDATED_AT = "updated_at", "Last updated"
        LAST_INTERACTION_AT = "last_interaction_at", "Last interaction"

    # The key is the primary key: InnoDB clusters the rows by it, so a page's sum reads one
    # contiguous range and a write's upsert one index (half the cost of a unique key beside an
    # id, which the CSV import pays per batch).
    pk = models.CompositePrimaryKey("ordering", "owner_id", "status", "bucket")
    ordering = models.CharField(max_length=24, choices=Ordering.choices)
    owner_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Lead.Status.choices)
    bucket = BinaryCharField(max_length=16)
    n = models.BigIntegerField(default=0)

    objects = StageCountQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.ordering} / owner {self.owner_id} / {self.status} / {self.bucket!r}: {self.n}"


class LeadImport(models.Model):
    """One CSV upload and its progress (seed 004 section 6; STYLE.md 6).

    ``processed_rows`` advances in the same transaction as each batch of leads, so a job that
    dies resumes after its last committed batch. Row errors live in :class:`LeadImportError`.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent_id = models.UUIDField(null=True, blank=True)
    source = models.CharField(max_length=50, blank=True, default="")
    region = models.CharField(max_length=2, blank=True, default="")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    success_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    failure_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.original_name or self.id} ({self.status})"

    @property
    def progress(self) -> float:
        """Percent of rows done, 0-100."""
        if not self.total_rows:
            return 100.0 if self.status == self.Status.COMPLETED else 0.0
        return round(100.0 * self.processed_rows / self.total_rows, 1)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.FAILED)


class LeadImportError(models.Model):
    """One rejected CSV row: its 1-based row number (the header is row 1) and why."""

    job = models.ForeignKey(LeadImport, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField()
    error = models.CharField(max_length=500)

    class Meta:
        ordering = ["job", "row"]
        indexes = [models.Index(fields=["job", "row"], name="leadimporterror_job_row")]

    def __str__(self) -> str:
        return f"row {self.row}: {self.error}"
