"""``manage.py rotate_api_key``: replace an API key (revoking the old one) and print the new one.

    manage.py rotate_api_key                      # the newest active key (or a first "Default" key)
    manage.py rotate_api_key --id <uuid>          # a given key
    manage.py rotate_api_key --name Zapier --role sales --new   # an additional key
    manage.py rotate_api_key --list               # active keys, masked
"""

import uuid

from django.core.management.base import BaseCommand, CommandError

from crm import apikeys
from crm.errors import ServiceError
from crm.models import ApiKey, User


class Command(BaseCommand):
    help = "Rotate an API key: issue a new one (printed once) and revoke the old one."

    def add_arguments(self, parser):
        parser.add_argument("--id", help="the key to rotate (default: the newest active key)")
        parser.add_argument("--name", help="name of the new key (default: the old key's)")
        parser.add_argument("--role", choices=User.Role.values, help="role of the new key (default: the old key's)")
        parser.add_argument("--new", action="store_true", help="issue an additional key, revoking nothing")
        parser.add_argument("--list", action="store_true", help="list the active keys (masked) and stop")

    def handle(self, *args, id=None, name=None, role=None, new=False, list=False, **opts):
        if list:
            for key in ApiKey.objects.active():
                last = key.last_used_at.isoformat() if key.last_used_at else "never"
                self.stdout.write(f"{key.pk}  {key.masked}  {key.role:<8} {key.name}  (last used {last})")
            return
        old = None
        if id:
            old = ApiKey.objects.filter(pk=id).first() if _is_uuid(id) else None
            if old is None:
                raise CommandError(f"No API key with id {id}.")
        elif not new:
            old = ApiKey.objects.active().first()
        try:
            if new:
                issued = apikeys.api_key_create(name=name or "Default", role=role or User.Role.MANAGER,
                                                created_by=None)
            else:
                issued = apikeys.api_key_regenerate(api_key=old, by=None, name=name, role=role)
        except ServiceError as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(self.style.SUCCESS(
            f"New key {issued.api_key.name!r} ({issued.api_key.role}), id {issued.api_key.pk}; shown only now:"
        ))
        self.stdout.write(issued.key)
        if old is not None:
            self.stdout.write(f"Revoked {old.masked} ({old.pk}).")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
