"""The editors' credential rules (search_app/editors/auth.py), without a
server: Bearer parsing, the session cookie (derived from the token, never
the token; expiring; bound to the token), the form token, the setting's
check."""
from __future__ import annotations

import time

import pytest

from search_app.editors import auth

TOKEN = "editor-token-for-tests-0123456789"


def test_bearer_header_is_read_in_any_case_of_the_scheme_and_nothing_else_is_a_bearer():
    assert auth.bearer_token(f"Bearer {TOKEN}") == TOKEN
    assert auth.bearer_token(f"bearer   {TOKEN} ") == TOKEN
    assert auth.bearer_token(f"Basic {TOKEN}") is None
    assert auth.bearer_token("Bearer ") is None and auth.bearer_token(None) is None and auth.bearer_token("") is None


def test_same_secret_only_for_the_same_text_whatever_the_lengths():
    assert auth.same_secret(TOKEN, TOKEN)
    assert not auth.same_secret(TOKEN[:-1], TOKEN) and not auth.same_secret(TOKEN + "x", TOKEN)
    assert not auth.same_secret("", TOKEN) and not auth.same_secret("\udcff", TOKEN)


def test_the_session_value_is_derived_from_the_token_never_holds_it_and_expires():
    now = time.time()
    value = auth.session_value(TOKEN, now)
    assert TOKEN not in value and value.startswith("v1.")
    assert auth.valid_session(value, TOKEN, now)
    assert auth.valid_session(value, TOKEN, now + auth.SESSION_SECONDS - 1)
    assert not auth.valid_session(value, TOKEN, now + auth.SESSION_SECONDS + 1)          # expired
    assert not auth.valid_session(auth.session_value("another-token-0123456789", now), TOKEN, now)
    expiry = int(now) + auth.SESSION_SECONDS
    forged_expiry = value.replace(f"v1.{expiry}.", f"v1.{expiry + auth.SESSION_SECONDS}.")
    assert not auth.valid_session(forged_expiry, TOKEN, now)                               # the MAC covers the expiry
    assert not auth.valid_session(TOKEN, TOKEN, now)        # the token itself is not a session
    assert not auth.valid_session("", TOKEN, now) and not auth.valid_session(None, TOKEN, now)


def test_a_bearer_header_decides_alone():
    cookie = auth.session_value(TOKEN)
    assert auth.is_editor(TOKEN, f"Bearer {TOKEN}", None)
    assert auth.is_editor(TOKEN, None, cookie)
    assert not auth.is_editor(TOKEN, "Bearer wrong-token-0123456789", cookie)
    assert not auth.is_editor(TOKEN, None, None)


def test_form_tokens_must_match_and_look_like_ours():
    token = auth.new_form_token()
    assert auth.form_token_matches(token, token)
    assert not auth.form_token_matches(token, auth.new_form_token())
    assert not auth.form_token_matches(None, token) and not auth.form_token_matches(token, None)
    assert not auth.form_token_matches("short", "short")


def test_cross_site_posts_are_recognised_and_a_missing_header_is_not_one():
    assert auth.cross_site("cross-site") and auth.cross_site("same-site")
    assert not auth.cross_site("same-origin") and not auth.cross_site("none") and not auth.cross_site(None)


@pytest.mark.parametrize("bad", ["short", "has a space in it 0123456789", "tøken-with-non-ascii-0123456789"])
def test_a_guessable_or_unsendable_token_is_refused_at_start_without_repeating_it(bad):
    with pytest.raises(ValueError) as refused:
        auth.check_token_setting(bad)
    assert bad not in str(refused.value)
    auth.check_token_setting(TOKEN)
    auth.check_token_setting(None)
