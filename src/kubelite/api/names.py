"""Name and label syntax checks of k8s.io/apimachinery/pkg/util/validation, with its exact messages.

Each `is_*` function returns a list of problem descriptions (empty when valid); callers wrap
them into FieldErrors with the field path and the offending value.
"""

from __future__ import annotations

import re

_QNAME_CHAR = "[A-Za-z0-9]"
_QNAME_EXT_CHAR = "[-A-Za-z0-9_.]"
QUALIFIED_NAME_FORMAT = f"({_QNAME_CHAR}{_QNAME_EXT_CHAR}*)?{_QNAME_CHAR}"
_QUALIFIED_NAME_MESSAGE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
LABEL_VALUE_FORMAT = f"({QUALIFIED_NAME_FORMAT})?"
_LABEL_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
DNS1123_LABEL_FORMAT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character"
)
DNS1123_SUBDOMAIN_FORMAT = f"{DNS1123_LABEL_FORMAT}(\\.{DNS1123_LABEL_FORMAT})*"
_DNS1123_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
DNS1035_LABEL_FORMAT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_MESSAGE = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character"
)
C_IDENTIFIER_FORMAT = "[A-Za-z_][A-Za-z0-9_]*"
ENV_VAR_NAME_FORMAT = "[-._a-zA-Z][-._a-zA-Z0-9]*"

_QUALIFIED_NAME = re.compile(f"^{QUALIFIED_NAME_FORMAT}$")
_LABEL_VALUE = re.compile(f"^{LABEL_VALUE_FORMAT}$")
_DNS1123_LABEL = re.compile(f"^{DNS1123_LABEL_FORMAT}$")
_DNS1123_SUBDOMAIN = re.compile(f"^{DNS1123_SUBDOMAIN_FORMAT}$")
_DNS1035_LABEL = re.compile(f"^{DNS1035_LABEL_FORMAT}$")
_ENV_VAR_NAME = re.compile(f"^{ENV_VAR_NAME_FORMAT}$")
_PORT_NAME_CHARS = re.compile("^[-a-z0-9]+$")
_HAS_LETTER = re.compile("[a-z]")

LABEL_VALUE_MAX_LENGTH = 63
QUALIFIED_NAME_MAX_LENGTH = 63
DNS1123_LABEL_MAX_LENGTH = 63
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
DNS1035_LABEL_MAX_LENGTH = 63


def regex_error(message: str, pattern: str, *examples: str) -> str:
    """Kubernetes' RegexError: the message, examples, and the regex used."""
    if not examples:
        return f"{message} (regex used for validation is '{pattern}')"
    quoted = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {quoted}regex used for validation is '{pattern}')"


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


EMPTY_ERROR = "must be non-empty"


def is_dns1123_label(value: str) -> list[str]:
    problems = []
    if len(value) > DNS1123_LABEL_MAX_LENGTH:
        problems.append(max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if not _DNS1123_LABEL.match(value):
        problems.append(regex_error(_DNS1123_LABEL_MESSAGE, DNS1123_LABEL_FORMAT, "my-name", "123-abc"))
    return problems


def is_dns1123_subdomain(value: str) -> list[str]:
    problems = []
    if len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        problems.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN.match(value):
        problems.append(regex_error(_DNS1123_SUBDOMAIN_MESSAGE, DNS1123_SUBDOMAIN_FORMAT, "example.com"))
    return problems


def is_dns1035_label(value: str) -> list[str]:
    problems = []
    if len(value) > DNS1035_LABEL_MAX_LENGTH:
        problems.append(max_len_error(DNS1035_LABEL_MAX_LENGTH))
    if not _DNS1035_LABEL.match(value):
        problems.append(regex_error(_DNS1035_LABEL_MESSAGE, DNS1035_LABEL_FORMAT, "my-name", "abc-123"))
    return problems


def is_qualified_name(value: str) -> list[str]:
    """A label key, annotation key or finalizer: an optional DNS subdomain prefix, '/', then a name."""
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["prefix part " + EMPTY_ERROR]
        prefix_problems = is_dns1123_subdomain(prefix)
        if prefix_problems:
            return ["prefix part " + problem for problem in prefix_problems]
    else:
        return [
            "a qualified name "
            + regex_error(_QUALIFIED_NAME_MESSAGE, QUALIFIED_NAME_FORMAT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        return ["name part " + EMPTY_ERROR]
    problems = []
    if len(name) > QUALIFIED_NAME_MAX_LENGTH:
        problems.append("name part " + max_len_error(QUALIFIED_NAME_MAX_LENGTH))
    if not _QUALIFIED_NAME.match(name):
        problems.append(
            "name part "
            + regex_error(_QUALIFIED_NAME_MESSAGE, QUALIFIED_NAME_FORMAT, "MyName", "my.name", "123-abc")
        )
    return problems


def is_valid_label_value(value: str) -> list[str]:
    problems = []
    if len(value) > LABEL_VALUE_MAX_LENGTH:
        problems.append(max_len_error(LABEL_VALUE_MAX_LENGTH))
    if not _LABEL_VALUE.match(value):
        problems.append(regex_error(_LABEL_VALUE_MESSAGE, LABEL_VALUE_FORMAT, "MyValue", "my_value", "12345"))
    return problems


def is_env_var_name(value: str) -> list[str]:
    if _ENV_VAR_NAME.match(value):
        return []
    message = (
        "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', "
        "or '.', and must not start with a digit"
    )
    return [regex_error(message, ENV_VAR_NAME_FORMAT, "my.env-name", "MY_ENV.NAME", "MyEnvName1")]


def is_valid_port_name(value: str) -> list[str]:
    """An IANA_SVC_NAME: at most 15 lowercase alphanumerics or '-', with a letter, no '--' or edge '-'."""
    problems = []
    if len(value) > 15:
        problems.append(max_len_error(15))
    if not _PORT_NAME_CHARS.match(value):
        problems.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in value:
        problems.append("must not contain consecutive hyphens")
    if value and (value[0] == "-" or value[-1] == "-"):
        problems.append("must not begin or end with a hyphen")
    if not _HAS_LETTER.search(value):
        problems.append("must contain at least one letter (a-z)")
    return problems


def is_valid_port_number(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else ["must be between 1 and 65535, inclusive"]


def mask_trailing_dash(name: str) -> str:
    """generateName prefixes may end in '-'; Kubernetes validates them as if it were a letter."""
    return name[:-1] + "a" if len(name) > 1 and name.endswith("-") else name
