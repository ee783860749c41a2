from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tasks"

    def ready(self):
        from contacts.models import Contact
        from contacts.signals import contact_merged
        from crm.events import event_published

        def on_event(sender, event: str, data: dict, **kwargs):
            # A lead given to someone else tells them (crm.events; sent after commit).
            if event == "lead.assigned":
                from tasks.services import notify_lead_assigned

                notify_lead_assigned(data)

        def on_contact_merged(sender, source, target, **kwargs):
            # Inside the merge transaction: the survivor takes the merged-away contact's tasks.
            from tasks.services import tasks_move_contact

            tasks_move_contact(source=source, target=target)

        event_published.connect(on_event, weak=False, dispatch_uid="tasks.lead_assigned")
        contact_merged.connect(on_contact_merged, sender=Contact, weak=False, dispatch_uid="tasks.contact_merged")
