"""API keys: create (shown once), regenerate, revoke, and look up a presented key.

A key is ``crm_`` plus 43 URL-safe characters (256 random bits); only its SHA-256 is stored, so a
database leak reveals no usable key, and a plain hash suffices because the key is not guessable
(passwords need slow hashes because people pick them). The first 12 characters are kept as the
visible prefix of the masked form. Each key acts through its own inactive service account with
the key's role (see :class:`crm.models.ApiKey`).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.errors import ServiceError
from crm.models import ApiKey, User

KEY_PREFIX = "crm_"
VISIBLE_CHARS = 12
#: ``last_used_at`` is written at most this often per key (not once per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    """A freshly made key: ``key`` is the only time the secret is available."""

    api_key: ApiKey
    key: str


def hash_key(raw: str) -> str:
    """SHA-256 hex of the presented key."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _service_user(name: str, role: str) -> User:
    user = User(username=f"api-key-{secrets.token_hex(6)}", first_name="API key", last_name=name[:150],
                role=role, is_active=False)
    user.set_unusable_password()
    user.save()
    return user


def _check(name: str, role: str) -> None:
    if not (name or "").strip():
        raise ServiceError("Give the key a name.", code="name_required", field="name")
    if role not in User.Role.values:
        raise ServiceError(f'"{role}" is not a role. Choose one of: {", ".join(User.Role.values)}.',
                           code="invalid_role", field="role")


@transaction.atomic
def api_key_create(*, name: str, role: str = User.Role.MANAGER, created_by: User | None) -> IssuedKey:
    """Make a key called ``name`` acting with ``role``; returns it with the secret (shown once).

    Raises ServiceError for an empty name or an unknown role.
    """
    _check(name, role)
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name.strip()[:100], role=role, prefix=raw[:VISIBLE_CHARS], key_hash=hash_key(raw),
        user=_service_user(name.strip(), role), created_by=created_by,
    )
    return IssuedKey(api_key, raw)


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, by: User | None) -> ApiKey:
    """Revoke ``api_key`` (idempotent): it answers 401 from now on."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


@transaction.atomic
def api_key_regenerate(*, api_key: ApiKey | None = None, by: User | None, name: str | None = None,
                       role: str | None = None) -> IssuedKey:
    """Replace ``api_key`` (default: the newest active key) by a new one with the same name and
    role (unless given), revoking the old one in the same transaction; returns the new key with
    its secret. With no key at all, makes the first one (``name`` default "Default").

    Raises ServiceError if ``api_key`` is revoked already, or for a bad name or role.
    """
    if api_key is None:
        api_key = ApiKey.objects.active().select_for_update().first()
    else:
        api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if api_key.revoked_at is not None:
            raise ServiceError("This key is revoked already; create a new one instead.", code="api_key_revoked")
    if api_key is None:
        return api_key_create(name=name or "Default", role=role or User.Role.MANAGER, created_by=by)
    issued = api_key_create(name=name or api_key.name, role=role or api_key.role, created_by=by)
    api_key_revoke(api_key=api_key, by=by)
    return issued


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key matching ``raw`` with its service user loaded, or None (unknown or revoked).

    Moves ``last_used_at`` when it is older than :data:`LAST_USED_RESOLUTION` (one conditional
    UPDATE, so concurrent requests write it once).
    """
    if not raw or not raw.startswith(KEY_PREFIX) or len(raw) > 100:
        return None
    api_key = ApiKey.objects.select_related("user").filter(key_hash=hash_key(raw)).first()
    if api_key is None or api_key.revoked_at is not None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        stale = now - LAST_USED_RESOLUTION
        ApiKey.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=api_key.pk).update(
            last_used_at=now
        )
        api_key.last_used_at = now
    return api_key

