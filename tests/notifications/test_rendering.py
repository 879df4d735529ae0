"""URLs in messages: `reverse_one` gives what `reverse` gives."""

from __future__ import annotations

import pytest
from django.core import signing
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils import translation

from notifications.rendering import reverse_one

TOKEN = signing.dumps({"b": 12, "n": 345, "e": "layanan@unit-a.go.id"}, salt="s", compress=True)


@pytest.mark.parametrize(
    ("viewname", "kwarg", "value"),
    [
        ("breach_answers:detail", "pk", 1),
        ("breach_answers:detail", "pk", 0),
        ("breach_answers:detail", "pk", 9_876_543_210_123),
        ("breach_answers:ack", "token", TOKEN),
        ("breach_answers:ack", "token", "a:b-c_d.e~f"),
        # Values that `reverse` quotes, or a value of another type: reversed as usual.
        ("breach_answers:ack", "token", "a b"),
        ("breach_answers:ack", "token", "ä%41"),
        ("breach_answers:ack", "token", "123"),
        ("breach_answers:detail", "pk", "12"),
    ],
)
def test_reverse_one_equals_reverse(viewname, kwarg, value):
    assert reverse_one(viewname, kwarg, value) == reverse(viewname, kwargs={kwarg: value})
    assert reverse_one(viewname, kwarg, value) == reverse(viewname, kwargs={kwarg: value})


def test_what_reverse_refuses_reverse_one_refuses():
    with pytest.raises(NoReverseMatch):
        reverse_one("breach_answers:ack", "token", "a/b")
    with pytest.raises(NoReverseMatch):
        reverse_one("breach_answers:detail", "pk", "abc")
    with pytest.raises(NoReverseMatch):
        reverse_one("breach_answers:detail", "pk", -3)


def test_reverse_one_follows_the_script_prefix():
    before = reverse_one("breach_answers:detail", "pk", 7)
    set_script_prefix("/maklumat/")
    try:
        assert reverse_one("breach_answers:detail", "pk", 7) == "/maklumat" + before
        assert reverse_one("breach_answers:detail", "pk", 7) == reverse(
            "breach_answers:detail", kwargs={"pk": 7}
        )
    finally:
        set_script_prefix("/")
    assert reverse_one("breach_answers:detail", "pk", 7) == before


@pytest.mark.parametrize("language", ["id", "en"])
def test_reverse_one_follows_the_active_language(language):
    with translation.override(language):
        url = reverse_one("breach_answers:ack", "token", TOKEN)
        assert url == reverse("breach_answers:ack", kwargs={"token": TOKEN})
    assert url.startswith("/en/") == (language == "en")
