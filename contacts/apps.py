from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"

    def ready(self):
        from django.db.backends.signals import connection_created

        from contacts.listcache import bump_on_write

        def install(sender, connection, **kwargs):
            # Every connection, web and worker alike, invalidates the contact list it writes.
            if bump_on_write not in connection.execute_wrappers:
                connection.execute_wrappers.append(bump_on_write)

        connection_created.connect(install, weak=False, dispatch_uid="contacts.list_cache_wrapper")
