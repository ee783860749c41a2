"""Shared fixtures: users of each role and API clients authenticated with a real JWT."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from crm.models import User
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: the shared one (Redis in CI) outlives the test
    database's rollbacks, so cached lead lists, throttle counters or login failures of one
    test must not leak into the next."""
    cache.clear()
    yield


@pytest.fixture
def sales_user(db):
    return UserFactory(username="sam", role=User.Role.SALES)


@pytest.fixture
def other_sales_user(db):
    return UserFactory(username="olga", role=User.Role.SALES)


@pytest.fixture
def manager(db):
    return UserFactory(username="maria", role=User.Role.MANAGER)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="ada", role=User.Role.ADMIN, is_staff=True, is_superuser=True)


def jwt_client(user) -> APIClient:
    """An APIClient sending ``Authorization: Bearer <access token>`` for ``user``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def api(sales_user):
    """API client authenticated as the sales user ``sam``."""
    return jwt_client(sales_user)


@pytest.fixture
def manager_api(manager):
    return jwt_client(manager)


@pytest.fixture
def anon_api():
    return APIClient()
