"""Contact and company pages (``contacts:*``), at /contacts/… and /companies/…."""

from django.urls import path

from contacts import views

app_name = "contacts"
urlpatterns = [
    path("contacts/", views.ContactListView.as_view(), name="contact_list"),
    path("contacts/new/", views.ContactCreateView.as_view(), name="contact_create"),
    path("contacts/duplicates/", views.DuplicatesView.as_view(), name="duplicates"),
    path("contacts/<uuid:pk>/", views.ContactDetailView.as_view(), name="contact_detail"),
    path("contacts/<uuid:pk>/edit/", views.ContactEditView.as_view(), name="contact_edit"),
    path("contacts/<uuid:pk>/delete/", views.ContactDeleteView.as_view(), name="contact_delete"),
    path("contacts/<uuid:pk>/interactions/", views.ContactAddInteractionView.as_view(),
         name="contact_add_interaction"),
    path("contacts/<uuid:pk>/companies/", views.ContactLinkCompanyView.as_view(), name="contact_link_company"),
    path("contacts/<uuid:pk>/companies/<uuid:company_id>/unlink/", views.ContactUnlinkCompanyView.as_view(),
         name="contact_unlink_company"),
    path("contacts/<uuid:pk>/merge/", views.MergeView.as_view(), name="contact_merge"),
    path("companies/", views.CompanyListView.as_view(), name="company_list"),
    path("companies/new/", views.CompanyCreateView.as_view(), name="company_create"),
    path("companies/<uuid:pk>/", views.CompanyDetailView.as_view(), name="company_detail"),
    path("companies/<uuid:pk>/edit/", views.CompanyEditView.as_view(), name="company_edit"),
    path("companies/<uuid:pk>/interactions/", views.CompanyAddInteractionView.as_view(),
         name="company_add_interaction"),
]
