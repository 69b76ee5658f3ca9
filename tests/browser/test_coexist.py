"""Client islands, data-live-ignore subtrees and focused inputs survive live patches."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import island
from tests.support import Front

pytestmark = pytest.mark.browser


def test_client_island_and_ignored_subtree_keep_their_state(front: Front, open_page) -> None:
    page = open_page(front.url + "/coexist")
    tally = page.locator("client-tally")
    live = island(page, "Ignoring")
    keep = live.locator("#keep")
    expect(keep).to_have_text("server 0")

    for _ in range(3):
        tally.get_by_role("button").click()
    expect(tally.locator("b")).to_have_text("3")

    # Mark the nodes, and change the ignored subtree the way client code might.
    page.evaluate(
        """() => {
          document.querySelector('client-tally').__mark = 'tally';
          document.querySelector('client-tally b').__mark = 'b';
          const keep = document.getElementById('keep');
          keep.__mark = 'keep';
          keep.setAttribute('data-client', 'mine');
          keep.classList.add('client-class');
          const child = document.createElement('i');
          child.id = 'client-child';
          child.textContent = 'added by script';
          keep.append(child);
        }"""
    )
    for n in range(1, 5):
        live.get_by_role("button", name="inc").click()
        expect(live.locator("b.n")).to_have_text(str(n))

    expect(tally.locator("b")).to_have_text("3")
    assert page.evaluate(
        """() => [document.querySelector('client-tally').__mark,
                  document.querySelector('client-tally b').__mark,
                  document.getElementById('keep').__mark]"""
    ) == ["tally", "b", "keep"]
    # The ignored element: server text of the first render, plus what script added.
    expect(keep).to_have_text("server 0added by script")
    expect(keep).to_have_attribute("data-client", "mine")
    expect(keep).to_have_class("client-class")
    expect(keep.locator("#client-child")).to_have_text("added by script")
    expect(live.locator("[data-live-ignore]")).to_have_count(1)

    # The client island still works after the patches.
    tally.get_by_role("button").click()
    expect(tally.locator("b")).to_have_text("4")


def test_clicks_inside_an_ignored_subtree_are_not_sent(front: Front, open_page) -> None:
    """A data-live button that client code put inside data-live-ignore stays client-side."""
    page = open_page()
    live = island(page, "Ignoring")
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(str(f))))
    page.goto(front.url + "/coexist")
    expect(page.locator("html")).to_have_attribute("data-nowaki-live", "connected")
    page.evaluate(
        """() => {
          const b = document.createElement('button');
          b.id = 'inner'; b.dataset.live = 'inc'; b.textContent = 'inner';
          document.getElementById('keep').append(b);
        }"""
    )
    live.locator("#inner").click()
    live.get_by_role("button", name="inc", exact=True).click()
    expect(live.locator("b.n")).to_have_text("1")
    events = [f for f in sent if '"event"' in f]
    assert len(events) == 1, events


def test_focused_input_keeps_value_and_caret(front: Front, open_page) -> None:
    page = open_page(front.url + "/coexist")
    live = island(page, "Ignoring")
    name = live.locator("#name")
    expect(name).to_have_value("v0")
    name.click()
    name.fill("")
    name.press_sequentially("typed by me")
    page.evaluate("document.getElementById('name').setSelectionRange(3, 7)")
    page.evaluate("document.getElementById('name').__mark = 'name'")

    for n in (1, 2):
        # Click through script, so focus never leaves the input.
        page.evaluate("document.querySelector('[data-live=inc]').click()")
        expect(live.locator("b.n")).to_have_text(str(n))
        kept = page.evaluate(
            """() => {
              const e = document.getElementById('name');
              return {active: document.activeElement === e, mark: e.__mark, value: e.value,
                      start: e.selectionStart, end: e.selectionEnd};
            }"""
        )
        assert kept == {"active": True, "mark": "name", "value": "typed by me", "start": 3, "end": 7}

    # Typing replaces the kept selection ("ed b", 3..7).
    page.keyboard.type("X")
    expect(name).to_have_value("typXy me")


def test_demo_client_island_keeps_its_state(demo_front: Front, open_page) -> None:
    page = open_page(demo_front.url + "/")
    tally = page.locator("click-tally")
    for _ in range(3):
        tally.get_by_role("button").click()
    expect(tally.locator("b")).to_have_text("3")
    page.evaluate("document.querySelector('click-tally').__mark = 'tally'")
    counter = island(page, "LiveCounter")
    for n in (1, 2, 3):
        counter.get_by_role("button", name="+").click()
        expect(counter.locator("strong")).to_have_text(f"live: {n}")
    todo = island(page, "TodoList")
    todo.locator("input[name=text]").fill("one more")
    todo.locator("input[name=text]").press("Enter")
    expect(todo.locator("ul > li")).to_have_count(3)
    expect(tally.locator("b")).to_have_text("3")
    assert page.evaluate("document.querySelector('click-tally').__mark") == "tally"
    tally.get_by_role("button").click()
    expect(tally.locator("b")).to_have_text("4")
