"""The HTML diff: smallest span, in UTF-16 code units, applied the way JavaScript does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nowaki.protocol.diff import apply, diff


def js_splice(old: str, start: int, deleted: int, inserted: str) -> str:
    """What the runtime does: slice a JavaScript (UTF-16) string; independent of diff.apply."""
    units = old.encode("utf-16-le")
    head = units[: 2 * start].decode("utf-16-le")
    return head + inserted + units[2 * (start + deleted) :].decode("utf-16-le")


def utf16(text: str) -> int:
    """Length in UTF-16 code units (JavaScript's ``length``)."""
    return len(text.encode("utf-16-le")) // 2


def test_equal_strings() -> None:
    """Nothing changed: no patch."""
    assert diff("", "") is None
    assert diff("<p>1</p>", "<p>1</p>") is None
    assert diff("🌊", "🌊") is None


def test_middle_change_keeps_prefix_and_suffix() -> None:
    """Only the changed middle is sent."""
    assert diff("<b>live: 1</b>", "<b>live: 2</b>") == (9, 1, "2")
    assert diff("<b>9</b>", "<b>10</b>") == (3, 1, "10")
    assert diff("<b>10</b>", "<b>9</b>") == (3, 2, "9")


def test_insert_delete_edges() -> None:
    """Pure insertions and deletions at either end, and whole replacement."""
    assert diff("", "abc") == (0, 0, "abc")
    assert diff("abc", "") == (0, 3, "")
    assert diff("abc", "abcd") == (3, 0, "d")
    assert diff("abc", "xabc") == (0, 0, "x")
    assert diff("abcd", "abc") == (3, 1, "")
    assert diff("abc", "xyz") == (0, 3, "xyz")


def test_repeated_characters_do_not_overlap() -> None:
    """Prefix and suffix never overlap (``aa`` → ``aaa`` inserts one ``a``)."""
    start, deleted, inserted = diff("aa", "aaa") or (0, 0, "")
    assert deleted == 0 and inserted == "a"
    assert js_splice("aa", start, deleted, inserted) == "aaa"


def test_offsets_count_utf16_units_after_astral_chars() -> None:
    """An astral char (two UTF-16 units) before the change shifts ``start`` by two."""
    assert diff("🌊a", "🌊b") == (2, 1, "b")
    assert diff("a🌊b", "a🌊c") == (3, 1, "c")
    assert diff("é🌊x✓", "é🌊y✓") == (3, 1, "y")
    old = "<p>héllo 🌊 wörld <b>0</b> ✓</p>"
    new = old.replace("<b>0</b>", "<b>1</b>")
    assert diff(old, new) == (21, 1, "1")
    assert js_splice(old, 21, 1, "1") == new


def test_deleted_span_counts_utf16_units() -> None:
    """Deleting an astral char deletes two units."""
    assert diff("x🌊y", "xy") == (1, 2, "")
    assert diff("x🌊🌋y", "xy") == (1, 4, "")


def test_never_splits_a_surrogate_pair() -> None:
    """🌊 and 🌋 share their high surrogate; the patch still replaces whole characters."""
    assert diff("🌊", "🌋") == (0, 2, "🌋")
    assert diff("a🌊b", "a🌋b") == (1, 2, "🌋")


def test_apply_matches_the_javascript_splice() -> None:
    """diff.apply uses UTF-16 offsets too."""
    assert apply("🌊a", (2, 1, "b")) == "🌊b"
    assert apply("x🌊y", (1, 2, "")) == "xy"


text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
astral_heavy = st.text(alphabet=st.sampled_from("a<>é🌊🌋✓𝄞 b"), max_size=30)


@given(a=text | astral_heavy, b=text | astral_heavy)
def test_property_apply_diff_round_trips(a: str, b: str) -> None:
    """For any two strings, applying diff(a, b) to a gives b, both with diff.apply and a JS splice."""
    patch = diff(a, b)
    if a == b:
        assert patch is None
        return
    assert patch is not None
    start, deleted, inserted = patch
    assert start >= 0 and deleted >= 0 and start + deleted <= utf16(a)
    assert apply(a, patch) == b
    assert js_splice(a, start, deleted, inserted) == b


@given(prefix=astral_heavy, old_mid=astral_heavy, new_mid=astral_heavy, suffix=astral_heavy)
def test_property_span_is_minimal(prefix: str, old_mid: str, new_mid: str, suffix: str) -> None:
    """The kept prefix and suffix are as long as possible, so the sent span is the smallest."""
    a, b = prefix + old_mid + suffix, prefix + new_mid + suffix
    patch = diff(a, b)
    if patch is None:
        assert a == b
        return
    start, deleted, inserted = patch
    units = a.encode("utf-16-le")
    kept_prefix = len(units[: 2 * start].decode("utf-16-le"))
    kept_suffix = len(a) - kept_prefix - len(units[2 * start : 2 * (start + deleted)].decode("utf-16-le"))
    assert inserted == b[kept_prefix : len(b) - kept_suffix]
    # Maximal prefix: the next characters differ (or one string is used up).
    assert a[:kept_prefix] == b[:kept_prefix]
    assert kept_prefix in (len(a), len(b)) or a[kept_prefix] != b[kept_prefix]
    # Maximal suffix given that prefix.
    assert a[len(a) - kept_suffix :] == b[len(b) - kept_suffix :]
    room_a, room_b = len(a) - kept_prefix - kept_suffix, len(b) - kept_prefix - kept_suffix
    assert room_a == 0 or room_b == 0 or a[len(a) - kept_suffix - 1] != b[len(b) - kept_suffix - 1]
