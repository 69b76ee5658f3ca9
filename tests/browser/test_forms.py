"""Form payloads, server-side validation messages and escaped user text."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import island
from tests.support import Front

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1">'


def _todo(page: Page):  # type: ignore[no-untyped-def]
    todo = island(page, "TodoList")
    return todo, todo.locator("input[name=text]"), todo.locator("ul > li")


def test_todo_add_clears_the_input(demo_front: Front, open_page) -> None:
    page = open_page(demo_front.url + "/")
    todo, field, items = _todo(page)
    expect(items).to_have_count(2)
    expect(todo.locator(".count")).to_have_text("2 items")

    # Enter in the field: the focused input belongs to the submitted form, so the
    # re-render clears it.
    field.fill("Buy milk")
    field.press("Enter")
    expect(items).to_have_count(3)
    expect(items.nth(2)).to_contain_text("Buy milk")
    expect(todo.locator(".count")).to_have_text("3 items")
    expect(field).to_have_value("")

    # The Add button (the submitter) works the same way.
    field.fill("Walk the dog")
    todo.get_by_role("button", name="Add").click()
    expect(items).to_have_count(4)
    expect(items.nth(3)).to_contain_text("Walk the dog")
    expect(field).to_have_value("")
    expect(todo.locator(".error")).to_have_count(0)


def test_todo_validation_messages(demo_front: Front, open_page) -> None:
    page = open_page(demo_front.url + "/")
    todo, field, items = _todo(page)
    error = todo.locator("p.error[role=alert]")

    todo.get_by_role("button", name="Add").click()
    expect(error).to_have_text("Write something first.")
    expect(items).to_have_count(2)

    field.fill("   ")
    field.press("Enter")
    expect(error).to_have_text("Write something first.")

    field.fill("x" * 100)  # under the input's maxlength=200, over the server's 80
    assert field.input_value() == "x" * 100
    field.press("Enter")
    expect(error).to_have_text("Keep it under 80 characters.")
    expect(items).to_have_count(2)

    # A good item clears the message.
    field.fill("fine")
    field.press("Enter")
    expect(items).to_have_count(3)
    expect(error).to_have_count(0)


def test_todo_remove_sends_its_index(demo_front: Front, open_page) -> None:
    page = open_page(demo_front.url + "/")
    todo, _, items = _todo(page)
    expect(items).to_have_text(["Read the seed ×", "Port LiveCounter ×"])
    items.nth(0).get_by_role("button", name="remove").click()
    expect(items).to_have_count(1)
    expect(items.nth(0)).to_contain_text("Port LiveCounter")
    expect(todo.locator(".count")).to_have_text("1 items")
    items.nth(0).get_by_role("button", name="remove").click()
    expect(items).to_have_count(0)
    expect(todo.locator(".count")).to_have_text("0 items")


def test_echo_form_payload_has_fields_and_submitter(front: Front, open_page) -> None:
    page = open_page(front.url + "/")
    echo = island(page, "Echo")
    echo.locator("input[name=text]").fill("hello wörld 🌊")
    echo.locator("input[name=n]").fill("42")
    echo.get_by_role("button", name="send").click()
    fields = echo.locator("dd[data-field]")
    expect(fields).to_have_count(3)
    expect(echo.locator('dd[data-field="text"]')).to_have_text("hello wörld 🌊")
    expect(echo.locator('dd[data-field="n"]')).to_have_text("42")
    expect(echo.locator('dd[data-field="via"]')).to_have_text("button")

    # Enter in a field submits through the default button: `via` is sent again.
    echo.locator("input[name=n]").fill("")
    echo.locator("input[name=text]").fill("again")
    echo.locator("input[name=text]").press("Enter")
    expect(echo.locator('dd[data-field="text"]')).to_have_text("again")
    expect(echo.locator('dd[data-field="n"]')).to_have_text("")
    expect(echo.locator('dd[data-field="via"]')).to_have_text("button")

    # A submit without a submitter (form.requestSubmit()): only the fields.
    page.evaluate("document.querySelector('nowaki-live[data-island=Echo] form').requestSubmit()")
    expect(fields).to_have_count(2)
    expect(echo.locator('dd[data-field="via"]')).to_have_count(0)


def test_echo_button_values_arrive_as_payload(front: Front, open_page) -> None:
    page = open_page(front.url + "/")
    echo = island(page, "Echo")
    echo.get_by_role("button", name="say").click()
    expect(echo.locator("ul > li")).to_have_text(["hi <b>"])
    echo.get_by_role("button", name="say").click()
    expect(echo.locator("ul > li")).to_have_text(["hi <b>", "hi <b>"])
    expect(echo.locator("ul b")).to_have_count(0)


def _assert_inert(page: Page, root) -> None:  # type: ignore[no-untyped-def]
    """No <img> got into the island and its onerror never ran."""
    expect(root.locator("img")).to_have_count(0)
    assert page.locator("img").count() == 0
    # A broken <img> fires onerror asynchronously; give it a moment to (not) run.
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None


def test_echo_shows_user_text_escaped(front: Front, open_page) -> None:
    page = open_page(front.url + "/")
    echo = island(page, "Echo")
    echo.locator("input[name=text]").fill(XSS)
    echo.get_by_role("button", name="send").click()
    expect(echo.locator('dd[data-field="text"]')).to_have_text(XSS)
    _assert_inert(page, echo)

    # The say button's value, changed by script to markup, is escaped too.
    page.evaluate(
        """xss => document.querySelector('nowaki-live[data-island=Echo] [data-live=say]')
                  .setAttribute('data-live-value-text', xss)""",
        XSS,
    )
    echo.get_by_role("button", name="say").click()
    expect(echo.locator("ul > li")).to_have_text([XSS])
    _assert_inert(page, echo)


def test_todo_shows_user_text_escaped(demo_front: Front, open_page) -> None:
    page = open_page(demo_front.url + "/")
    todo, field, items = _todo(page)
    field.fill(XSS)
    field.press("Enter")
    expect(items).to_have_count(3)
    expect(items.nth(2)).to_contain_text(XSS)
    _assert_inert(page, todo)
