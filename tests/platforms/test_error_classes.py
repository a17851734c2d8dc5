"""Every platform's error classifier, as the run loop meets it: through the registry."""

import pytest

from cartwire.platforms.registry import ERROR_CLASSIFIER, registry

CLASSIFIERS = registry().names(ERROR_CLASSIFIER)


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("code", [None, "429", "500", "502", "503", "504"])
def test_no_answer_or_a_bare_busy_status_is_tried_again(name: str, code: str | None) -> None:
    """A 5xx or 429 from a gateway carries no platform code, only its status: still busy."""
    assert registry().get(ERROR_CLASSIFIER, name)(code) == "transient"


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("code", ["400", "404", "422", "InvalidField", "VALIDATION_ERROR"])
def test_a_refused_record_is_not_tried_again(name: str, code: str) -> None:
    assert registry().get(ERROR_CLASSIFIER, name)(code) == "permanent"


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("code", ["401", "403"])
def test_a_bare_access_status_is_the_setups_to_fix(name: str, code: str) -> None:
    assert registry().get(ERROR_CLASSIFIER, name)(code) == "configuration"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("commercelayer", "FORBIDDEN"),
        ("commercelayer", "INVALID_TOKEN"),
        ("commercetools", "insufficient_scope"),
        ("commercetools", "invalid_token"),
    ],
)
def test_a_platforms_access_code_is_the_setups_to_fix(name: str, code: str) -> None:
    assert registry().get(ERROR_CLASSIFIER, name)(code) == "configuration"


def test_every_platform_has_a_classifier() -> None:
    assert {"http_status", "commercetools", "commercelayer"} <= set(CLASSIFIERS)
