"""A list request with several bad parameters gets one 400 that names each of them: the
filters' and the pagination's (crm.api.pagination.check_list_query), and changes nothing."""

import pytest

from tests.factories import LeadFactory

BAD_PAGE = {"limit": "abc", "offset": "-1", "page": "0", "per_page": "many"}


@pytest.mark.parametrize("path, bad_filter", [
    ("/api/v1/leads", {"status": "bogus", "ordering": "password"}),
    ("/api/v1/contacts", {"status": "boss", "ordering": "password"}),
    ("/api/v1/companies", {"owner": "abc", "ordering": "password"}),
    ("/api/v1/tasks", {"priority": "urgent", "ordering": "colour"}),
    ("/api/v1/calls/history", {"outcome": "maybe", "start_date": "2026-13-01"}),
])
def test_every_bad_list_parameter_is_named_in_one_400(manager_api, path, bad_filter):
    response = manager_api.get(path, {**bad_filter, **BAD_PAGE})

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert set(errors) == {*bad_filter, *BAD_PAGE}, errors
    assert errors["limit"] == ["Must be a whole number, not 'abc'."]
    assert errors["offset"] == ["Must be at least 0."]
    assert errors["page"] == ["Must be at least 1."]
    assert errors["per_page"] == ["Must be a whole number, not 'many'."]


def test_a_lead_calls_list_names_its_bad_filter_and_its_bad_page(manager_api):
    lead = LeadFactory()

    response = manager_api.get(f"/api/v1/leads/{lead.pk}/calls", {"outcome": "maybe", "limit": "0"})

    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {"outcome", "limit"}


@pytest.mark.parametrize("path", ["/api/v1/leads", "/api/v1/contacts", "/api/v1/tasks"])
def test_bad_pagination_alone_is_still_named(manager_api, path):
    response = manager_api.get(path, {"limit": "ten", "offset": "x"})

    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {"limit", "offset"}


def test_call_metrics_are_not_paginated_and_ignore_page_parameters(manager_api):
    assert manager_api.get("/api/v1/calls/metrics", {"limit": "abc"}).status_code == 200
    response = manager_api.get("/api/v1/calls/metrics", {"outcome": "maybe", "limit": "abc"})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"outcome"}
