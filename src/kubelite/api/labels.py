"""Label selectors: the string form (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) and LabelSelector
objects (matchLabels, matchExpressions) compile into one `Selector` of ANDed requirements.

Semantics follow k8s.io/apimachinery/pkg/labels: `!=` and `notin` also match objects without the
key; an empty selector matches everything; a nil LabelSelector object matches nothing. Parse
failures raise `SelectorError`, whose message the API server returns in a 400 BadRequest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kubelite.api.names import is_qualified_name, is_valid_label_value

Operator = Literal["=", "==", "!=", "in", "notin", "exists", "!", "gt", "lt"]
_SET_OPERATORS = frozenset({"in", "notin"})
_EXPRESSION_OPERATORS: dict[str, Operator] = {
    "In": "in",
    "NotIn": "notin",
    "Exists": "exists",
    "DoesNotExist": "!",
}


class SelectorError(ValueError):
    """A selector that does not parse or whose keys or values are not valid label syntax."""


@dataclass(frozen=True, slots=True)
class Requirement:
    """One condition on one label key."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator in ("=", "==", "in"):
            return present and labels[self.key] in self.values
        if self.operator in ("!=", "notin"):
            return not present or labels[self.key] not in self.values
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if not present:
            return False
        try:
            actual = int(labels[self.key])
        except ValueError:
            return False
        bound = int(self.values[0])
        return actual > bound if self.operator == "gt" else actual < bound

    def __str__(self) -> str:
        if self.operator == "exists":
            return self.key
        if self.operator == "!":
            return f"!{self.key}"
        if self.operator in _SET_OPERATORS:
            return f"{self.key} {self.operator} ({','.join(sorted(self.values))})"
        if self.operator in ("gt", "lt"):
            return f"{self.key}{'>' if self.operator == 'gt' else '<'}{self.values[0]}"
        return f"{self.key}{self.operator}{self.values[0]}"


@dataclass(frozen=True, slots=True)
class Selector:
    """Requirements ANDed together; `matches_nothing` is the nil-selector case."""

    requirements: tuple[Requirement, ...] = ()
    matches_nothing: bool = False

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.matches_nothing:
            return False
        present = labels or {}
        return all(requirement.matches(present) for requirement in self.requirements)

    def empty(self) -> bool:
        """True when the selector selects everything."""
        return not self.requirements and not self.matches_nothing

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


EVERYTHING = Selector()
NOTHING = Selector(matches_nothing=True)


def new_requirement(key: str, operator: Operator, values: tuple[str, ...]) -> Requirement:
    """Build a requirement after Kubernetes' checks on the key, operator arity and values."""
    problems = [f'key: Invalid value: "{key}": {problem}' for problem in is_qualified_name(key)]
    if operator in _SET_OPERATORS and not values:
        problems.append("for 'in', 'notin' operators, values set can't be empty")
    if operator in ("=", "==", "!=") and len(values) != 1:
        problems.append("exact-match compatibility requires one single value")
    if operator in ("exists", "!") and values:
        problems.append("values set must be empty for exists and does not exist")
    if operator in ("gt", "lt"):
        if len(values) != 1 or not re.fullmatch(r"-?[0-9]+", values[0]):
            problems.append(f"for 'Gt', 'Lt' operators, the value must be an integer: {list(values)}")
    else:
        for value in values:
            problems.extend(
                f'values: Invalid value: "{value}": {problem}' for problem in is_valid_label_value(value)
            )
    if problems:
        raise SelectorError("; ".join(problems))
    return Requirement(key, operator, tuple(sorted(set(values))) if operator in _SET_OPERATORS else values)


_TOKEN = re.compile(r"\s*(?:(?P<op>==|!=|=|!|\(|\)|,|<|>)|(?P<ident>[^\s=!(),<>]+))")


def _tokens(text: str) -> Iterator[str]:
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip() == "":
                return
            raise SelectorError(f"unable to parse requirement: unexpected character at {text[position:]!r}")
        position = match.end()
        yield match.group("op") or match.group("ident")


def parse_selector(text: str) -> Selector:
    """Parse the string form of a label selector ("" selects everything)."""
    tokens = list(_tokens(text))
    requirements: list[Requirement] = []
    index = 0

    def peek() -> str | None:
        return tokens[index] if index < len(tokens) else None

    def expected(what: str) -> SelectorError:
        found = peek()
        return SelectorError(f"unable to parse requirement: found '{found or ''}', expected: {what}")

    while index < len(tokens):
        if tokens[index] == "!":
            index += 1
            key = peek()
            if key is None or key in "=!(),<>":
                raise expected("identifier")
            requirements.append(new_requirement(key, "!", ()))
            index += 1
        else:
            key = tokens[index]
            if key in "=!(),<>":
                raise expected("!, identifier")
            index += 1
            operator = peek()
            if operator is None or operator == ",":
                requirements.append(new_requirement(key, "exists", ()))
            elif operator in ("=", "==", "!="):
                index += 1
                value = peek()
                if value is None or value == ",":
                    value = ""
                else:
                    index += 1
                requirements.append(new_requirement(key, operator, (value,)))  # type: ignore[arg-type]
            elif operator in ("<", ">"):
                index += 1
                value = peek()
                if value is None or value == ",":
                    raise expected("identifier")
                index += 1
                requirements.append(new_requirement(key, "gt" if operator == ">" else "lt", (value,)))
            elif operator in ("in", "notin"):
                index += 1
                if peek() != "(":
                    raise expected("'('")
                index += 1
                values: list[str] = [""]
                while peek() != ")":
                    token = peek()
                    if token is None or token in "=!(<>" or (token != "," and values[-1]):
                        raise expected("',', ')'")
                    if token == ",":
                        values.append("")
                    else:
                        values[-1] = token
                    index += 1
                if values == [""]:
                    values = []
                index += 1
                requirements.append(new_requirement(key, operator, tuple(values)))  # type: ignore[arg-type]
            else:
                raise expected("=, !=, ==, in, notin, >, <")
        if peek() is not None:
            if peek() != ",":
                raise expected("','")
            index += 1
            if peek() is None:
                raise expected("identifier")
    return Selector(tuple(sorted(requirements, key=lambda requirement: requirement.key)))


def selector_from_object(selector: Mapping[str, Any] | None) -> Selector:
    """Compile a LabelSelector object (as a dict); None selects nothing, {} selects everything."""
    if selector is None:
        return NOTHING
    requirements: list[Requirement] = []
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        raise SelectorError("matchLabels must be a map of strings")
    for key, value in match_labels.items():
        if not isinstance(value, str):
            raise SelectorError(f"matchLabels[{key}] must be a string")
        requirements.append(new_requirement(str(key), "=", (value,)))
    for expression in selector.get("matchExpressions") or []:
        if not isinstance(expression, Mapping):
            raise SelectorError("matchExpressions entries must be objects")
        operator = _EXPRESSION_OPERATORS.get(str(expression.get("operator")))
        if operator is None:
            raise SelectorError(f'"{expression.get("operator")}" is not a valid label selector operator')
        values = expression.get("values") or []
        if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
            raise SelectorError("matchExpressions values must be a list of strings")
        requirements.append(new_requirement(str(expression.get("key", "")), operator, tuple(values)))
    return Selector(tuple(sorted(requirements, key=lambda requirement: requirement.key)))


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """metav1.FormatLabelSelector: the string form, "<none>" when empty, "<error>" when invalid."""
    try:
        text = str(selector_from_object(selector))
    except SelectorError:
        return "<error>"
    return text or "<none>"


def format_labels(labels: Mapping[str, str] | None) -> str:
    """labels.FormatLabels: sorted "k=v" pairs joined by commas, "<none>" when there are none."""
    if not labels:
        return "<none>"
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))
