from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self):
        from crm.api.authentication import connect_signals
        from crm.models import User

        connect_signals(User)
        import crm.webhooks  # noqa: F401  (connects the outgoing-webhook receiver to crm.events)
