from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self):
        from django.conf import settings
        from django.db.models.signals import post_delete, post_save

        from leads import listcache
        from leads.services import stage_counts_rebuild

        def on_user_deleted(sender, **kwargs):
            # The user's leads became unassigned (owner SET_NULL) behind the services' back.
            stage_counts_rebuild()
            listcache.bump()

        post_delete.connect(on_user_deleted, sender=settings.AUTH_USER_MODEL, weak=False,
                            dispatch_uid="leads.user_deleted_recount")

        def on_user_saved(sender, **kwargs):
            listcache.bump()  # cached lead lists show owners' names

        post_save.connect(on_user_saved, sender=settings.AUTH_USER_MODEL, weak=False,
                          dispatch_uid="leads.user_saved_list_cache")
