"""Contacts API routes under /api/v1/, with and without a trailing slash (DESIGN.md decision 2)."""

from contacts.api import views
from crm.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("companies", views.CompanyViewSet, basename="company")

urlpatterns = router.urls
