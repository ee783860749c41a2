"""LeadFilterSet: the one set of filters behind the API list and the leads page (STYLE.md 1).

Parameters: ``search`` (or ``q``), ``status`` (comma-separated allowed), ``call_status``
(or seed 004's ``status_filter``), ``owner`` (a user id, ``me`` or ``none``), ``source``,
``agent_id``, ``created_after``/``created_before`` (date or date-time), and ``ordering``
(``-created_at`` style; seed 000's ``sort=created_at_desc`` and seed 003's
``sort_by``/``sort_order`` are translated).
"""

import datetime as dt
import hashlib
import logging

import django_filters
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, Sum

from crm.api.pagination import raw_rows
from crm.filters import CSVChoiceFilter, DateBoundFilter, LeanFilterSet, OwnerFilter
from leads import listcache, order_buckets
from leads.models import (
    SEARCH_COVERED,
    Lead,
    LeadOrderCount,
    LeadStageCount,
    LeadStageDayCount,
    LeadStageMonthCount,
    branch_column,
    branch_index,
    branch_rows,
    covered_search_sql,
    first_names,
    name_ordered_search_rows,
    search_branches,
)

logger = logging.getLogger(__name__)

# ordering parameter -> the columns it sorts by (each has an index led by deleted_at). "name"
# (the full name seeds 000-002 show) sorts by last name, then first name, without case or
# accents (Lead.name_key); "last_name" is an alias of it.
ORDERING_COLUMNS = {
    "created_at": ("created_at",),
    "updated_at": ("updated_at",),
    "last_interaction_at": ("last_interaction_at",),
    "score": ("score",),
    "value": ("value",),
    "name": ("name_key",),
}
DEFAULT_ORDERING = "-created_at"


def _span_holding(buckets: list[tuple], offset: int, limit: int) -> tuple | None:
    """From ``[(bucket, leads in it)]`` (months, days or ordering buckets, in list order): the first and last
    bucket holding rows ``offset`` to ``offset + limit`` and how many rows the buckets before
    the first hold; None past the end."""
    before, first = 0, None
    for i, (_, n) in enumerate(buckets):
        if before + n > offset:
            first = i
            break
        before += n
    if first is None:
        return None
    last, held = first, buckets[first][1]
    while held < offset - before + limit and last + 1 < len(buckets):
        last += 1
        held += buckets[last][1]
    return buckets[first][0], buckets[last][0], before


def _memo_scope(owners, statuses) -> str:
    """The part of a rollup memo's key (``listcache.memo``) that names a list's scope: its owner
    ids and statuses (``LeadFilterSet.rollup_scope``), ``*`` for all."""
    return "{}:{}".format("*" if owners is None else ",".join(map(str, owners)),
                          "*" if statuses is None else ",".join(statuses))


def _in_default_order(queryset) -> bool:
    """Whether ``queryset`` is in the list's default order, newest or oldest first."""
    return tuple(queryset.query.order_by)[:1] in (("-created_at",), ("created_at",))


def _first_rows(ids, stop: int) -> list[tuple]:
    """The raw rows of ``ids[:stop]``."""
    return raw_rows(ids[:stop])


def _ids_from_end(ids, total: int, offset: int, limit: int) -> list:
    """The raw primary keys of rows ``offset`` to ``offset + limit`` of ``ids`` (``total`` rows),
    read in reverse order from its end: for a page in the far half, ``OFFSET`` would walk
    every entry before it."""
    return [row[0] for row in _rows_from_end(ids, total, offset, limit)]


def _rows_from_end(rows, total: int, offset: int, limit: int) -> list[tuple]:
    """The raw rows ``offset`` to ``offset + limit`` of ``rows`` (a values_list of ``total``
    rows), read from its end as :func:`_ids_from_end` reads ids."""
    return raw_rows(rows.reverse()[max(total - offset - limit, 0) : total - offset])[::-1]


class PageMarks:
    """Where earlier deep pages of one list began, so that a page near one is read from it.

    A deep page in a bucketed ordering (:meth:`LeadFilterSet.page_ids`) walks up to half a
    bucket by ``OFFSET`` (names starting "jo": 50,285 leads at 1M). Each such page leaves a
    mark, ``(position, sort value, id)`` of its first row, in the list cache at the list's
    version (``listcache.lookup_many``: a write to any lead drops them all), one per slot of
    ``LEAD_PAGE_MARK_STEP`` positions. A later page looks at its own slot and the
    ``LOOKED_BACK`` before it and reads on from the nearest mark at or before it: a walk of at
    most ``(LOOKED_BACK + 1) × LEAD_PAGE_MARK_STEP`` entries, and ``limit`` for the next page
    of someone paging through. Off when the list cache is off.

    ``key``: the list (ordering, direction and rollup scope; None: no marks); ``offset``: the
    page's position.
    """

    # Slots looked at behind the page's own: with more, a cold list finds a mark sooner (a
    # random page hits one with odds 1 - exp(-pages × reach / list length)), at a longer walk.
    LOOKED_BACK = 7

    def __init__(self, key: str | None, offset: int):
        self.offset = offset
        self.keys, self.found, self.version = [], {}, None
        step = settings.LEAD_PAGE_MARK_STEP
        if key is not None and step > 0 and listcache.enabled():
            slot = offset // step  # the page's own slot first: keep() fills it
            slots = range(slot, max(slot - self.LOOKED_BACK, 0) - 1, -1)
            self.keys = [listcache.memo_key(f"mark:{key}:{s}") for s in slots]
            self.found, self.version = listcache.lookup_many(self.keys)

    def nearest(self) -> tuple | None:
        """``(position, value, pk)`` of the nearest mark at or before ``offset``, or None."""
        marks = [mark for mark in self.found.values() if mark[0] <= self.offset]
        return max(marks, default=None)

    def keep(self, column: str, row: tuple) -> None:
        """Remember ``row`` (``(pk, value of column)`` as the driver gives them) as the first
        row of the page at ``offset``, unless its slot holds a mark already."""
        if self.version is None or self.keys[0] in self.found or row[1] is None:
            return  # a NULL sorts apart (last_interaction_at); such pages are read as before
        value = Lead._meta.get_field(column).to_python(row[1])
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)  # the driver's naive UTC
        listcache.put(self.keys[0], (self.offset, value, Lead._meta.pk.to_python(row[0])), self.version)


def _from_mark(column: str, value, pk, descending: bool) -> Q:
    """The rows at or after ``(value, pk)`` in a list ordered by ``column`` then id, both
    ascending or both descending (``value`` not NULL; NULLs sort first ascending and last
    descending, on MariaDB, MySQL and SQLite alike)."""
    if descending:
        after = Q(**{f"{column}__lt": value}) | Q(**{column: value, "id__lte": pk})
        return after | Q(**{f"{column}__isnull": True}) if Lead._meta.get_field(column).null else after
    return Q(**{f"{column}__gt": value}) | Q(**{column: value, "id__gte": pk})


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


class LeadFilterSet(LeanFilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Search")
    q = django_filters.CharFilter(method="filter_search", label="Search (alias)")
    status = CSVChoiceFilter(choices=Lead.Status.choices)
    call_status = CSVChoiceFilter(choices=Lead.CallStatus.choices)
    status_filter = CSVChoiceFilter(field_name="call_status", choices=Lead.CallStatus.choices,
                                    label="Call status (seed 004)")
    owner = OwnerFilter(method="filter_owner", label="Owner")
    owner_id = OwnerFilter(method="filter_owner", label="Owner (alias)")
    source = django_filters.CharFilter(field_name="source", lookup_expr="iexact")
    agent_id = django_filters.UUIDFilter(field_name="agent_id")
    created_after = DateBoundFilter(method="filter_created",
                                          label="Created on or after (date or date-time)")
    created_before = DateBoundFilter(method="filter_created",
                                           label="Created on or before (date or date-time)")
    ordering = django_filters.OrderingFilter(fields=tuple((k, k) for k in ORDERING_COLUMNS), method="filter_ordering")

    default_ordering = ("-created_at", "-id")
    ordering_columns = ORDERING_COLUMNS
    ordering_aliases = {"last_name": "name"}

    class Meta:
        model = Lead
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.search(value) if value.strip() else queryset

    def filter_owner(self, queryset, name, value):
        if value in ("", None):
            return queryset
        if value == "me":
            return queryset.filter(owner=self.request.user if self.request else None)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=value)

    def filter_created(self, queryset, name, value):
        if not value:
            return queryset
        moment, date_only = value
        if name == "created_after":
            return queryset.filter(created_at__gte=moment)
        if date_only:  # a bare end date includes that whole day
            return queryset.filter(created_at__lt=moment + dt.timedelta(days=1))
        return queryset.filter(created_at__lte=moment)

    SEARCH_FILTERS = ("search", "q")

    def filter_queryset(self, queryset):
        """The filters, the search last. With one search, the searched query keeps the queryset
        before it (``unsearched``, with how many conditions the searched one has): a common
        word's pages may be read branch by branch from it (:meth:`_capped_search_rows`)."""
        data = self.form.cleaned_data
        for name, value in data.items():
            if name not in self.SEARCH_FILTERS:
                queryset = self.filters[name].filter(queryset, value)
        unsearched, searches = queryset, [name for name in self.SEARCH_FILTERS if (data.get(name) or "").strip()]
        for name in searches:
            queryset = self.filters[name].filter(queryset, data[name])
        if len(searches) == 1:
            queryset.query.unsearched = (unsearched, len(queryset.query.where.children))
        return queryset

    # Filters the (owner, status) rollups can answer; any other filter needs a (capped) count.
    ROLLUP_FILTERS = {"status", "owner", "owner_id", "ordering"}

    def rollup_scope(self) -> tuple[list[int] | None, list[str] | None] | None:
        """``(owner ids, statuses)`` whose rollup rows hold exactly this list's leads (0 =
        unassigned; None = all), or None when a filter the rollups cannot answer is active.

        The sales scope (own + unassigned, DESIGN.md decision 8) and an ``owner`` filter
        (``me``, ``none`` or an id) intersect; a seller asking for someone else's leads gets [].
        """
        if not hasattr(self, "_rollup_scope"):
            self._rollup_scope = self._find_rollup_scope(self.ROLLUP_FILTERS)
        return self._rollup_scope

    def search_scope(self) -> tuple[list[int] | None, list[str] | None] | None:
        """:meth:`rollup_scope` of the list without its search: what the search branches'
        indexes carry (``leads.models.SEARCH_COVERED``)."""
        if not hasattr(self, "_search_scope"):
            self._search_scope = self._find_rollup_scope(self.ROLLUP_FILTERS | set(self.SEARCH_FILTERS))
        return self._search_scope

    def _find_rollup_scope(self, answerable: set):
        data = self.form.cleaned_data if self.has_filters and self.form.is_valid() else {}
        active = {name for name, value in data.items() if value not in (None, "", [], ())}
        if active - answerable:
            return None
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return [], None
        owners = None if user.sees_all else [user.pk, 0]
        owner = data.get("owner") or data.get("owner_id")
        if owner:
            wanted = user.pk if owner == "me" else 0 if owner == "none" else owner
            owners = [wanted] if owners is None or wanted in owners else []
        return owners, (data.get("status") or None)

    def _seeks_by_day(self, queryset, offset: int) -> bool:
        """Whether row ``offset`` is found through the month and day rollups: a deep page in the
        default order (newest or oldest first) with only rollup filters."""
        if offset < settings.LEAD_DAY_SEEK_OFFSET or self.rollup_scope() is None:
            return False
        return _in_default_order(queryset)

    def _bucket_ordering(self, queryset, offset: int) -> str | None:
        """The ordering (an ``order_buckets.ORDERING_COLUMN`` key) whose :class:`LeadOrderCount`
        rows find row ``offset``: a deep page, ordered by one of those columns, with only
        rollup filters; else None."""
        if offset < settings.LEAD_DAY_SEEK_OFFSET or self.rollup_scope() is None:
            return None
        return order_buckets.COLUMN_ORDERING.get(str(queryset.query.order_by[0]).lstrip("-"))

    def count(self, queryset=None, *, offset: int = 0) -> tuple[int, bool]:
        """``(total, exact)`` for the filtered list without ``COUNT(*)`` over the table.

        Status/owner filters (and the sales scope) are summed from :class:`LeadStageCount`, or
        for a deep page (``offset``, see :meth:`page_ids`) from the per-month rows that page is
        then found with — one query either way; anything else counts at most
        ``LEAD_COUNT_CAP + 1`` matching rows.
        """
        queryset = queryset if queryset is not None else self.qs
        scope = self.rollup_scope()
        if scope is None:
            if getattr(queryset.query, "search_bounded", False):
                # At most search_id_cap() candidates: read the matching ones in list order once,
                # which is the total and every page (page_ids slices it).
                self._matches = self._ordered_pks(queryset.values_list("pk", flat=True))
                return len(self._matches), True
            return queryset.fast_count()
        owners, statuses = scope
        if owners == []:
            return 0, True
        # The sums below are memoised at the list's version (listcache.memo): every write bumps
        # it, and random deep pages of one list read the same sums.
        scope_key = _memo_scope(owners, statuses)
        if self._seeks_by_day(queryset, offset):
            newest_first = queryset.query.order_by[0] == "-created_at"
            self._months = listcache.memo(f"months:{newest_first}:{scope_key}", lambda: list(
                LeadStageMonthCount.objects.scoped(owners, statuses).order_by("-month" if newest_first else "month")
                .values_list("month").annotate(n=Sum("n"))))
            return sum(n for _, n in self._months), True
        ordering = self._bucket_ordering(queryset, offset)
        if ordering is not None:
            descending = str(queryset.query.order_by[0]).startswith("-")

            def bucket_sums():
                rows = (LeadOrderCount.objects.filter(ordering=ordering)
                        .scoped(owners or [order_buckets.ALL_OWNERS], statuses)
                        .order_by().values_list("bucket").annotate(n=Sum("n")))
                return sorted(((b, n) for b, n in rows if n), reverse=descending)

            list_key = f"{ordering}:{descending}:{scope_key}"
            self._buckets = (ordering, listcache.memo(f"buckets:{list_key}", bucket_sums), list_key)
            return sum(n for _, n in self._buckets[1]), True
        return LeadStageCount.objects.total_for(owners, statuses), True

    def page_ids(self, queryset, limit: int, offset: int, total: int, exact: bool) -> list:
        """The raw primary keys (:func:`crm.api.pagination.raw_rows`) of rows ``offset`` to
        ``offset + limit`` of ``queryset`` (this set's ``qs``, counted by :meth:`count` with the
        same offset), in order, read from an index alone. How deep pages stay cheap at a
        million leads:

        * in the default order (``created_at``, newest or oldest first) with only status/owner
          filters, :class:`LeadStageMonthCount` (summed by :meth:`count`) gives the month that
          holds row ``offset``, that month's :class:`LeadStageDayCount` rows the days that hold
          the page and how many rows come before them; the page is read from those days alone,
          skipping at most one day's leads (``OFFSET 500000`` would walk half a million index
          entries);
        * in the other orderings with a rollup (score, value, name, updated_at,
          last_interaction_at; ``leads.order_buckets``) likewise, from the
          :class:`LeadOrderCount` buckets summed by :meth:`count`, skipping at most one bucket;
        * otherwise, past half of an exact total, the rows are read from the other end;
        * otherwise ``OFFSET`` over the ordering's index (at most ``LEAD_COUNT_CAP`` rows deep
          when the total is not exact, i.e. for capped filters and searches).
        """
        matches = getattr(self, "_matches", None)
        if matches is not None:  # a search narrowed to at most search_id_cap() leads (count)
            return matches[offset : offset + limit]
        ids = queryset.values_list("pk", flat=True)
        if getattr(queryset.query, "search_capped", False):
            if offset >= total:
                # A search too common to count pages through its first search_id_cap() matches
                # (the links stop there): past them it would only scan the table further.
                return []
            return self._ordered_pks(ids, need=offset + limit, most=total + limit,
                                     read=self._capped_search_rows)[offset : offset + limit]
        months = getattr(self, "_months", None)
        buckets = getattr(self, "_buckets", None)
        page = None
        if months is not None and self._seeks_by_day(queryset, offset):
            page = self._day_seek_ids(queryset, ids, months, limit, offset)
        elif buckets is not None and self._bucket_ordering(queryset, offset) == buckets[0]:
            page = self._bucket_seek_ids(queryset, buckets, limit, offset)
        if page is not None:
            if len(page) >= min(limit, total - offset):
                return page
            # The rollups disagree with the table (rows written or moved outside the services,
            # healed by the nightly rebuild): a slow page beats a wrong one.
            logger.warning("Lead rollups out of step with leads_lead at offset %s; "
                           "run manage.py rebuild_lead_counts", offset)
        elif exact and offset > total // 2 and offset >= settings.LEAD_DAY_SEEK_OFFSET:
            return _ids_from_end(ids, total, offset, limit)
        return [row[0] for row in raw_rows(ids[offset : offset + limit])]

    @staticmethod
    def _ordered_pks(ids, need: int | None = None, most: int | None = None, read=_first_rows) -> list:
        """The raw primary keys of the list's rows in order (``ids``: its ``values_list("pk")``):
        all of them, or at least its first ``need`` (fewer only past the end), memoised at the
        list's version under the query's SQL (scope, filters, search and ordering).

        For searches, whose pages are found by scanning the ordering's index for matches: the
        same or a shallower page of one search is sliced from the memo instead of scanning again
        from the first match (page 40 of ``Smi`` reads ~24,000 index entries at 1M leads), for
        every reader in the same scope. A deeper page reads to its own end, or to twice what the
        memo held when that is more (at most ``most`` rows): paging on through a search grows
        the memo a few times, not every page, and a first visit reads no more than before.
        ``read(ids, stop)`` gives the rows of ``ids[:stop]``."""
        try:
            sql, params = ids.query.sql_with_params()
        except EmptyResultSet:  # a search whose rare words no lead matches (qs.none())
            return []
        key = "pks:" + hashlib.sha1(f"{sql}\x00{params!r}".encode()).hexdigest()
        held = 0  # rows in a memo too short for this page

        def enough(found):
            nonlocal held
            pks, complete = found
            held = len(pks)
            return complete or (need is not None and held >= need)

        def compute():
            stop = None if need is None else max(need, min(2 * held, most or 2 * held))
            rows = raw_rows(ids) if stop is None else read(ids, stop)
            return [row[0] for row in rows], stop is None or len(rows) < stop

        return listcache.memo(key, compute, enough)[0]

    # What reading one index entry costs at 1M leads, in µs: walking the default order's index
    # (it carries the searched columns and the owner), any other walk (a row read per entry: the
    # other orderings' indexes lack the searched columns, none has the status), and a search
    # branch's entry from a covering index (leads.models.COVERING_INDEXES: with the scope
    # filters only, in an ordering they carry) or with a row read. Measured on "fr", "Smi" and
    # "jo" (docs/benchmarks.md).
    _WALK_ENTRY, _WALK_ROW, _BRANCH_ENTRY, _BRANCH_ROW = 0.4, 5.0, 0.7, 3.5
    # Distinct leads per branch row of a name-like word ("fr": 8,651 leads, 12,161 rows: first
    # names and emails overlap).
    _DISTINCT = 0.7
    # By name (leads.models.name_ordered_search_rows): an entry of a branch read in name order
    # (the union and sort of the parts included), and an email index entry judged by its
    # name_key ("jo" at 1M leads: 8,000 entries in order in 8.6 ms, 24,793 emails in 13.3 ms).
    _ORDERED_ENTRY, _SCANNED_ENTRY = 1.1, 0.55

    def _capped_search_rows(self, ids, stop: int) -> list[tuple]:
        """The rows of ``ids[:stop]`` (a capped search's ids): from walking the ordering's index
        for matches, or on MariaDB, when the list has one search of one common word, from that
        word's branches (:func:`leads.models.covered_search_sql`) where that costs less.

        Walking to row ``stop`` passes about ``stop × live² / (matches × visible)`` entries
        (``visible``: the live leads the list's scope and status filter hold, per the rollups;
        ``matches``: the distinct leads of the branches' rows), reading the branches each
        branch's rows, at the costs per entry above; the rows are the optimizer's estimates
        (:func:`leads.models.branch_rows`). Above ``LEAD_SEARCH_COVER_CAP`` rows in all the index
        is walked. By name, the word's last-name branch is read in the list's order (``stop``
        entries) and not counted; with the scope filters only, :meth:`_by_name_rows` is tried
        first."""
        words = getattr(ids.query, "search_common", ())
        unsearched, conditions = getattr(ids.query, "unsearched", (None, None))
        if (len(words) != 1 or unsearched is None or len(ids.query.where.children) != conditions
                or connection.vendor != "mysql" or not connection.mysql_is_mariadb):
            return _first_rows(ids, stop)
        order = tuple(ids.query.order_by)
        branches = search_branches(words[0])
        scope = self.search_scope()
        # The covering indexes carry the scope and these orderings' columns, not the status.
        covered = scope is not None and scope[1] is None and str(order[0]).lstrip("-") in SEARCH_COVERED
        in_order = None  # by name, the last-name branch is read in the list's order
        if order[:1] in (("name_key",), ("-name_key",)):
            in_order = order_buckets.name_prefix_filter(words[0])
        alone = [branch for branch in branches
                 if branch == in_order or covered and branch_index(branch) is not None]
        counted = [branch for branch in branches if branch != in_order]
        per_row = [self._BRANCH_ENTRY if branch in alone else self._BRANCH_ROW for branch in counted]
        live = LeadStageCount.objects.total_for()
        visible = max(live if scope is None else LeadStageCount.objects.total_for(*scope), 1)
        walk_entry = self._WALK_ENTRY if covered and _in_default_order(ids) else self._WALK_ROW
        cap = settings.LEAD_SEARCH_COVER_CAP
        known = getattr(ids.query, "search_common_rows", None)  # the search's own estimates, if any
        estimates = known[0] if known else branch_rows(branches, cap)
        rows = [n for branch, n in zip(branches, estimates, strict=True) if branch != in_order]
        # Walking passes about stop × live² / (matches × visible) entries; a lead matching
        # several branches counts once there.
        walk = walk_entry * stop * live * live / (max(sum(rows), 1) * self._DISTINCT * visible)
        read = sum(n * cost for n, cost in zip(rows, per_row, strict=True))
        if in_order is not None and scope is not None and scope[1] is None:
            by_name = self._by_name_rows(unsearched.order_by(*order), list(zip(branches, estimates, strict=True)),
                                         stop, live / visible, min(walk, read))
            if by_name is not None:
                return by_name
        sql = None
        if read <= walk and sum(rows) <= cap:
            sql = covered_search_sql(unsearched.order_by(*order), alone,
                                     [branch for branch in branches if branch not in alone], stop)
        if sql is None:
            return _first_rows(ids, stop)
        with connection.cursor() as cursor:
            cursor.execute(*sql)
            return cursor.fetchall()

    def _by_name_rows(self, unsearched, branches: list[tuple], stop: int, spread: float,
                      budget: float) -> list[tuple] | None:
        """The first ``stop`` rows of a search by name read as
        :func:`leads.models.name_ordered_search_rows` reads them, when that costs less than
        ``budget`` (µs, the cheaper of the other plans); else None. ``branches``: ``(branch,
        estimated rows)`` of each of the word's branches (:func:`leads.models.branch_rows`);
        ``spread``: live leads per lead in the list's scope (a walk in name order passes that
        many entries per match it keeps).

        A branch read in order walks about ``stop × spread`` entries, or all of them when it
        holds fewer (a first name's share of its branch is not known: the whole branch bounds
        them all); the email index is scanned whole, and the company and phone branches cost a
        row read each. Above ``LEAD_SEARCH_COVER_CAP`` entries read in all, None."""
        depth = stop * spread
        cost, entries, names = 0.0, 0, []
        for branch, n in branches:
            column = branch_column(branch)
            if column == "first_name":
                names = first_names(branch)
                if names is None:
                    return None
                n = min(n, len(names) * depth)
                cost += self._ORDERED_ENTRY * n
            elif column == "name_key":
                n = min(n, depth)
                cost += self._ORDERED_ENTRY * n
            else:
                cost += n * (self._SCANNED_ENTRY if column == "live_email" else self._BRANCH_ROW)
            entries += n
        if cost > budget or entries > settings.LEAD_SEARCH_COVER_CAP:
            return None
        return name_ordered_search_rows(unsearched, [branch for branch, _ in branches], names, stop)

    def _day_seek_ids(self, queryset, ids, months: list, limit: int, offset: int) -> list:
        """Rows ``offset`` … ``offset + limit`` read from the days that hold them per the month
        (``months``, from :meth:`count`) and day rollups; ``[]`` past their end."""
        found = _span_holding(months, offset, limit)
        if found is None:
            return []  # past the end
        first_month, last_month, before = found
        owners, statuses = self.rollup_scope()
        newest_first = queryset.query.order_by[0] == "-created_at"
        oldest, newest = sorted((first_month, last_month))
        # Memoised like the month sums: random pages of one list fall in a few dozen months.
        days = listcache.memo(f"days:{newest_first}:{_memo_scope(owners, statuses)}:{oldest}:{newest}", lambda: list(
            LeadStageDayCount.objects.scoped(owners, statuses).filter(day__gte=oldest, day__lt=_next_month(newest))
            .order_by("-day" if newest_first else "day").values_list("day").annotate(n=Sum("n"))))
        offset -= before  # the rows of the months before `first_month`
        found = _span_holding(days, offset, limit)
        if found is None:
            return []  # the day rows sum to less than their months: out of step
        first_day, last_day, before = found
        offset -= before  # and of its days before `first_day`
        # Both ends bounded: with only one, MariaDB may walk the index from the list's
        # start and filter (a "ref" on deleted_at) instead of ranging over those days.
        oldest, newest = sorted((first_day, last_day))
        ids = ids.filter(created_at__gte=dt.datetime.combine(oldest, dt.time.min, tzinfo=dt.UTC),
                         created_at__lt=dt.datetime.combine(newest, dt.time.min, tzinfo=dt.UTC)
                         + dt.timedelta(days=1))
        return [row[0] for row in raw_rows(ids[offset : offset + limit])]

    @staticmethod
    def _bucket_seek_ids(queryset, buckets: tuple, limit: int, offset: int) -> list:
        """Rows ``offset`` … ``offset + limit`` read from the buckets that hold them
        (``buckets``: the ordering, its ``[(label, leads)]`` in list order and the list's memo
        key, from :meth:`count`); ``[]`` past their end. A page in the far half of its buckets
        is read from their end, as :meth:`page_ids` reads the far half of a whole list: a bucket
        may hold many leads (names starting "jo": ~10 % at 1M), and ``OFFSET`` walks them. A
        page that lies after a :class:`PageMarks` mark nearer than that is read on from the
        mark; every page leaves one."""
        ordering, sums, key = buckets
        found = _span_holding(sums, offset, limit)
        if found is None:
            return []
        first, last, before = found
        labels = [label for label, _ in sums]
        held = sum(n for _, n in sums[labels.index(first) : labels.index(last) + 1])
        column = order_buckets.ORDERING_COLUMN[ordering]
        rows = queryset.values_list("pk", column)
        skip = offset - before
        # A mark is a position in (column, id) order: a second sort key (name,-score) orders
        # the rows of one value otherwise, so such a list keeps none.
        marks = PageMarks(key if len(queryset.query.order_by) == 2 else None, offset)
        mark = marks.nearest()
        if mark is not None and offset - mark[0] < min(skip, held - skip):
            position, value, pk = mark
            descending = str(queryset.query.order_by[0]).startswith("-")
            # Both ends bounded, as the buckets' own read: MariaDB ranges over the index.
            span = order_buckets.span_filter(ordering, *sorted((order_buckets.bucket(ordering, value), last)))
            walk = offset - position
            page = raw_rows(rows.filter(span, _from_mark(column, value, pk, descending))[walk : walk + limit])
        else:
            rows = rows.filter(order_buckets.span_filter(ordering, *sorted((first, last))))
            page = _rows_from_end(rows, held, skip, limit) if skip > held // 2 else raw_rows(rows[skip : skip + limit])
        if page:
            marks.keep(column, page[0])
        return [row[0] for row in page]
