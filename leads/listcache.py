"""The lead list's response cache (:class:`crm.listcache.ListCache`, ``LEAD_LIST_CACHE_SECONDS``).

Every lead write bumps it: ``Lead.save``/``delete``, ``LeadQuerySet.update/bulk_create/
bulk_update/delete``, the stage rollup (which the CSV import's raw INSERTs go through) and user
saves (owner names, ``leads.apps``). A write that bypasses all of these (raw SQL by hand) shows
once ``LEAD_LIST_CACHE_SECONDS`` have passed.
"""

from crm.listcache import ListCache

LEADS = ListCache("leads", "LEAD_LIST_CACHE_SECONDS")
VERSION_KEY = LEADS.version_key

enabled = LEADS.enabled
bump = LEADS.bump
page_key = LEADS.page_key
lookup = LEADS.lookup
lookup_many = LEADS.lookup_many
memo_key = LEADS.memo_key
put = LEADS.put
memo = LEADS.memo
