from django.apps import AppConfig


class CallingConfig(AppConfig):
    name = "calling"

    def ready(self):
        from calling import services
        from leads import services as lead_services

        # A lead may only be given an existing, active agent (leads never imports calling).
        if services.check_agent_id not in lead_services.AGENT_CHECKS:
            lead_services.AGENT_CHECKS.append(services.check_agent_id)
