from crm.api.routers import OptionalSlashRouter
from leads.api import imports, views

# Paths work with and without a trailing slash, without redirects (DESIGN.md decision 2).
router = OptionalSlashRouter()
router.register("leads", views.LeadViewSet, basename="lead")
router.register("interactions", views.InteractionViewSet, basename="interaction")
router.register("actions", views.ActionViewSet, basename="action")
router.register("imports", imports.LeadImportViewSet, basename="import")

urlpatterns = imports.urlpatterns + router.urls
