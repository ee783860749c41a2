"""The contact list's response cache (:class:`crm.listcache.ListCache`,
``CONTACT_LIST_CACHE_SECONDS``).

A contact row shows the contact, its owner's name, its companies (names, roles) and its tags,
written by many paths (services, bulk INSERTs, merges, links, the admin, lead conversion). So
rather than each of them remembering to bump, every database connection carries an execute
wrapper (installed in ``contacts.apps``) that bumps on any INSERT, UPDATE, DELETE or REPLACE
naming a ``contacts_`` table or the user table — raw SQL included.
"""

import re

from crm.listcache import ListCache

CONTACTS = ListCache("contacts", "CONTACT_LIST_CACHE_SECONDS")

_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_TABLES = ("contacts_", "crm_user")


def is_contact_write(sql) -> bool:
    """Whether ``sql`` (a statement, as Django runs it) writes a table a contact row shows."""
    return isinstance(sql, str) and _WRITE.match(sql) is not None and any(t in sql for t in _TABLES)


def bump_on_write(execute, sql, params, many, context):
    """``connection.execute_wrappers`` entry: run the statement, then bump the contact list's
    version if it wrote a contacts table (after: a failed statement changed nothing)."""
    result = execute(sql, params, many, context)
    if CONTACTS.enabled() and is_contact_write(sql):
        CONTACTS.bump()
    return result
