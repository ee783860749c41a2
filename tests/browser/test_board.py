"""The pages in a real browser: Debian's headless Chromium driven by Playwright against
pytest-django's ``live_server``. Covers what the test client cannot: HTML5 drag and drop on the
board, the keyboard fallback, and HTMX swaps (filters, the timeline form) with the CSRF header.

CI installs Chromium at /usr/bin/chromium (Debian's ``chromium`` package); without it these
tests fail, on purpose, rather than skip.
"""

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told it is fine (it is: the calls here are synchronous).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from django.urls import reverse  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from crm.models import Interaction, User  # noqa: E402
from leads.models import Lead  # noqa: E402
from tests.factories import LeadFactory, UserFactory  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium) "
                    "to run the browser tests. Do not run `playwright install`.", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def sam(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return UserFactory(username="sam", first_name="Sam", last_name="Seller", role=User.Role.SALES)


@pytest.fixture
def page(browser, live_server, sam):
    """A signed-in page (through the login form) that fails the test on any JavaScript error."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(reverse("crm:login"))
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/$"))  # where signing in lands
    yield page
    context.close()
    assert not errors, errors


def test_drag_a_new_lead_to_another_column(page, sam):
    # Create the lead through the form.
    page.goto(reverse("leads:lead_create"))
    page.fill("input[name=first_name]", "Dora")
    page.fill("input[name=last_name]", "Dragger")
    page.fill("input[name=email]", "dora@example.com")
    page.fill("input[name=phone]", "(415) 555-2671")
    page.fill("input[name=company]", "Dragon Corp")
    page.click("form.lead-form button[type=submit]")
    page.wait_for_url(re.compile(r"/leads/[0-9a-f-]{36}/$"))
    lead = Lead.objects.get(email="dora@example.com")
    assert lead.status == Lead.Status.NEW and lead.phone == "+14155552671"

    # Drag its card from "New" to "Qualified".
    page.goto(reverse("leads:lead_board"))
    card = page.locator(f"#lead-card-{lead.pk}")
    new_column = page.locator('.board-column[data-status="new"]')
    qualified = page.locator('.board-column[data-status="qualified"]')
    expect(new_column.locator(card)).to_be_visible()
    expect(qualified.locator(".col-count")).to_have_text("0")
    with page.expect_response(lambda r: r.url.endswith(f"/leads/{lead.pk}/status/")) as info:
        card.drag_to(qualified.locator(".board-cards"))
    assert info.value.status == 200
    expect(qualified.locator(f"#lead-card-{lead.pk}")).to_have_attribute("data-status", "qualified")
    expect(qualified.locator(".col-count")).to_have_text("1")
    expect(new_column.locator(".col-count")).to_have_text("0")

    lead.refresh_from_db()
    assert lead.status == Lead.Status.QUALIFIED
    change = lead.interactions.get(kind=Interaction.Kind.STATUS_CHANGE)
    assert change.metadata == {"from": "new", "to": "qualified", "by": "Sam Seller"}

    # The lead's page shows the change on its timeline.
    page.goto(reverse("leads:lead_detail", args=[lead.pk]))
    entry = page.locator("#timeline .timeline-entry.kind-status_change")
    expect(entry).to_contain_text("New → Qualified by Sam Seller")
    expect(page.locator("h1 .badge")).to_have_text("Qualified")


def test_keyboard_moves_a_focused_card(page, sam):
    lead = LeadFactory(first_name="Kim", last_name="Keys", owner=sam, status=Lead.Status.CONTACTED)
    page.goto(reverse("leads:lead_board"))
    card = page.locator(f"#lead-card-{lead.pk}")
    card.focus()
    with page.expect_response(lambda r: "/status/" in r.url):
        page.keyboard.press("ArrowRight")
    expect(page.locator(f'.board-column[data-status="interested"] #lead-card-{lead.pk}')).to_be_visible()
    lead.refresh_from_db()
    assert lead.status == Lead.Status.INTERESTED


def test_list_filters_swap_the_table_and_push_the_url(page, sam):
    LeadFactory(first_name="Alice", last_name="Anders", owner=sam)
    LeadFactory(first_name="Bruno", last_name="Berg", owner=None)
    page.goto(reverse("leads:lead_list"))
    expect(page.locator("#lead-results tbody tr")).to_have_count(2)
    page.fill("input[name=search]", "bruno")
    expect(page.locator("#lead-results tbody tr")).to_have_count(1)
    expect(page.locator("#lead-results")).to_contain_text("Bruno Berg")
    expect(page).to_have_url(re.compile(r"/leads/\?search=bruno$"))  # empty filters left out
    # Sorting keeps the search, and the filter form then keeps the sort.
    page.click("th a:has-text('Value')")
    expect(page).to_have_url(re.compile(r"ordering=-value"))
    expect(page).to_have_url(re.compile(r"search=bruno"))


def test_add_an_interaction_without_reloading(page, sam):
    lead = LeadFactory(first_name="Tim", last_name="Line", owner=sam)
    page.goto(reverse("leads:lead_detail", args=[lead.pk]))
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    page.select_option("select[name=kind]", "call")
    page.fill("input[name=subject]", "Discovery call")
    page.fill("textarea[name=notes]", "Needs 20 seats.")
    page.click("#interaction-form button[type=submit]")
    first = page.locator("#timeline > li").first
    expect(first).to_contain_text("Discovery call")
    expect(page.locator("input[name=subject]")).to_have_value("")
    assert page.evaluate("window.__sameDocument") is True
    assert lead.interactions.get().subject == "Discovery call"
