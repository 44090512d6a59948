"""Label selectors: string form and LabelSelector objects compile to the same matching rules."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.labels import SelectorError, format_label_selector, parse_selector, selector_from_object

LABELS = {"app": "web", "tier": "front", "version": "3"}

MATCH_CASES = [
    ("", True),
    ("app=web", True),
    ("app==web", True),
    ("app=db", False),
    ("app!=db", True),
    ("missing!=x", True),
    ("tier in (front,back)", True),
    ("tier in (back)", False),
    ("tier notin (back)", True),
    ("missing notin (x)", True),
    ("app", True),
    ("missing", False),
    ("!missing", True),
    ("!app", False),
    ("app=web,tier=back", False),
    ("app=web, tier in (front)", True),
    ("version>2", True),
    ("version<3", False),
    ("example.com/key=", False),
]


@pytest.mark.parametrize(("text", "expected"), MATCH_CASES, ids=[text or "empty" for text, _ in MATCH_CASES])
def test_string_selector_matching(text: str, expected: bool) -> None:
    assert parse_selector(text).matches(LABELS) is expected


BAD_SELECTORS = [
    "app=web,",
    "app in web",
    "!",
    "app web",
    "a@=b",
    "app in ()",
    "a=b c",
    "x>y",
    "a=" + "v" * 64,
]


@pytest.mark.parametrize("text", BAD_SELECTORS, ids=BAD_SELECTORS)
def test_bad_string_selectors_raise(text: str) -> None:
    with pytest.raises(SelectorError):
        parse_selector(text)


OBJECT_CASES: list[tuple[str, dict[str, Any] | None, bool]] = [
    ("nil-matches-nothing", None, False),
    ("empty-matches-everything", {}, True),
    ("match-labels", {"matchLabels": {"app": "web"}}, True),
    ("match-labels-miss", {"matchLabels": {"app": "db"}}, False),
    ("in", {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}, True),
    ("notin", {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}, False),
    ("exists", {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
    ("does-not-exist", {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, False),
    (
        "anded",
        {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "x", "operator": "Exists"}]},
        False,
    ),
]


@pytest.mark.parametrize(
    ("selector", "expected"), [c[1:] for c in OBJECT_CASES], ids=[c[0] for c in OBJECT_CASES]
)
def test_label_selector_objects(selector: dict[str, Any] | None, expected: bool) -> None:
    assert selector_from_object(selector).matches(LABELS) is expected


BAD_OBJECTS = [
    ("unknown-operator", {"matchExpressions": [{"key": "a", "operator": "Has"}]}),
    ("in-without-values", {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}),
    ("exists-with-values", {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
    ("bad-key", {"matchLabels": {"a b": "x"}}),
    ("non-string-value", {"matchLabels": {"a": 1}}),
]


@pytest.mark.parametrize("selector", [c[1] for c in BAD_OBJECTS], ids=[c[0] for c in BAD_OBJECTS])
def test_bad_label_selector_objects_raise(selector: dict[str, Any]) -> None:
    with pytest.raises(SelectorError):
        selector_from_object(selector)


def test_string_form_round_trips_and_formats_like_kubernetes() -> None:
    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "t", "operator": "In", "values": ["b", "a"]}],
    }
    text = format_label_selector(selector)
    assert text == "app=web,t in (a,b)"
    assert str(parse_selector(text)) == text
    assert format_label_selector({}) == "<none>"
    assert format_label_selector({"matchExpressions": [{"key": "a", "operator": "Bad"}]}) == "<error>"
