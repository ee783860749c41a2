"""Signals the contacts app sends so apps to its right can follow without being imported.

``contact_merged`` is sent inside the merge transaction, after timeline and companies moved and
before the merged-away contact is retired: receivers move what they own (tasks, for one) from
``source`` to ``target`` in the same transaction, so a failed merge moves nothing.
Arguments: ``sender=Contact``, ``source`` (the contact merged away), ``target`` (the survivor).
"""

from django.dispatch import Signal

contact_merged = Signal()
