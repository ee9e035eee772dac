"""The web app's session: the refresh token in an HttpOnly cookie, a CSRF token bound to it, the
origin checked, rotation, sign-out and sign-out everywhere (docs/web-app.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select

from takt.auth.models import RefreshToken
from takt.core.db import Database
from tests.support import PASSWORD, bearer, login, make_pat, make_user

SESSION = "/api/v1/auth/session"
REFRESH = f"{SESSION}/refresh"
EVERYWHERE = f"{SESSION}/logout-everywhere"
ME = "/api/v1/users/me"
BASE = "http://localhost:8000"


@dataclass
class Cookie:
    name: str
    value: str
    attributes: dict[str, str]

    @property
    def flags(self) -> set[str]:
        return {name.lower() for name in self.attributes}

    def attribute(self, name: str) -> str | None:
        for key, value in self.attributes.items():
            if key.lower() == name.lower():
                return value
        return None


def set_cookies(response: Response) -> dict[str, Cookie]:
    """The cookies a response sets, with their attributes (as a browser reads `Set-Cookie`)."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        first, *rest = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        attributes = {}
        for part in rest:
            key, _, attribute = part.partition("=")
            attributes[key] = attribute
        found[name] = Cookie(name, value, attributes)
    return found


@dataclass
class WebSession:
    refresh: str
    csrf: str
    access: str


def session_of(response: Response) -> WebSession:
    assert response.status_code == 200, response.text
    cookies = set_cookies(response)
    body = response.json()
    assert cookies["takt_csrf"].value == body["csrf_token"]
    return WebSession(cookies["takt_refresh"].value, body["csrf_token"], body["access_token"])


@pytest.fixture
async def web(app: FastAPI, db: Database) -> AsyncIterator[AsyncClient]:
    """A client that keeps no cookies of its own: each test sends exactly the ones it means to."""
    async with AsyncClient(transport=ASGITransport(app=app), base_url=BASE) as c:
        yield c


async def sign_in(
    web: AsyncClient, username: str = "ada", *, headers: dict[str, str] | None = None
) -> Response:
    body = {"username": username, "password": PASSWORD}
    response = await web.post(SESSION, json=body, headers=headers)
    web.cookies.clear()
    return response


async def call(
    web: AsyncClient,
    method: str,
    path: str,
    session: WebSession | None,
    *,
    csrf_header: str | None = "same",
    csrf_cookie: str | None = "same",
    headers: dict[str, str] | None = None,
) -> Response:
    """A request as the browser would send it: the session's cookies, and the CSRF header the
    app's script adds (`"same"`: the session's own token)."""
    sent = dict(headers or {})
    cookies = []
    if session is not None:
        cookies.append(f"takt_refresh={session.refresh}")
        cookie_value = session.csrf if csrf_cookie == "same" else csrf_cookie
        if cookie_value is not None:
            cookies.append(f"takt_csrf={cookie_value}")
        header_value = session.csrf if csrf_header == "same" else csrf_header
        if header_value is not None:
            sent["X-CSRF-Token"] = header_value
    if cookies:
        sent["Cookie"] = "; ".join(cookies)
    response = await web.request(method, path, headers=sent)
    web.cookies.clear()
    return response


async def live_refresh_tokens(db: Database) -> int:
    async with db.transaction(write=False) as session:
        count = await session.scalar(
            select(func.count()).select_from(RefreshToken).where(RefreshToken.revoked_at.is_(None))
        )
    return int(count or 0)


# --- Signing in -----------------------------------------------------------------------------


async def test_sign_in_sets_the_refresh_token_as_an_httponly_strict_cookie(
    web: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    response = await sign_in(web)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "csrf_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    cookies = set_cookies(response)
    refresh, csrf = cookies["takt_refresh"], cookies["takt_csrf"]
    assert refresh.value.startswith("takt_rt_")
    assert {"httponly", "samesite", "path", "max-age"} <= refresh.flags
    assert refresh.attribute("SameSite") in ("strict", "Strict")
    assert refresh.attribute("Path") == SESSION
    assert int(refresh.attribute("Max-Age") or 0) == 30 * 24 * 3600
    # The CSRF cookie is for the app's script to read: not HttpOnly, sent on every path.
    assert "httponly" not in csrf.flags
    assert csrf.attribute("SameSite") in ("strict", "Strict")
    assert csrf.attribute("Path") == "/"
    # Served as localhost: plain HTTP in development, so not Secure.
    assert "secure" not in refresh.flags
    assert "secure" not in csrf.flags
    # The access token works for the API.
    me = await web.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "ada"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("base", "secure"),
    [
        ("http://localhost:8000", False),
        ("http://127.0.0.1:8000", False),
        ("http://[::1]:8000", False),
        ("https://takt.example.com", True),
        ("http://takt.example.com", True),
        ("http://10.0.0.5:8000", True),
    ],
)
async def test_cookies_are_secure_except_on_localhost(
    app: FastAPI, db: Database, base: str, secure: bool
) -> None:
    await make_user(app, db, "ada")
    async with AsyncClient(transport=ASGITransport(app=app), base_url=base) as client:
        response = await client.post(SESSION, json={"username": "ada", "password": PASSWORD})
    assert response.status_code == 200, response.text
    for cookie in set_cookies(response).values():
        assert ("secure" in cookie.flags) is secure, (base, cookie)


async def test_the_refresh_token_is_never_in_a_body(
    web: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    signed_in = await sign_in(web)
    first = session_of(signed_in)
    assert first.refresh not in signed_in.text
    assert "refresh_token" not in signed_in.text
    refreshed = await call(web, "POST", REFRESH, first)
    second = session_of(refreshed)
    assert second.refresh not in refreshed.text
    assert first.refresh not in refreshed.text
    assert "refresh_token" not in refreshed.text


async def test_wrong_credentials_are_a_401_problem_and_set_no_cookie(
    web: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    response = await web.post(SESSION, json={"username": "ada", "password": "wrong-password!"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid-credentials"
    assert not response.headers.get_list("set-cookie")
    unknown = await web.post(SESSION, json={"username": "nobody", "password": PASSWORD})
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == response.json()["detail"]


async def test_sign_in_is_throttled_with_the_token_login(
    web: AsyncClient, app: FastAPI, db: Database
) -> None:
    """The same counters as `POST /auth/token`: failures at either count for both."""
    await make_user(app, db, "ada")
    for _ in range(3):
        failed = await web.post(
            "/api/v1/auth/token", data={"username": "ada", "password": "wrong-password!"}
        )
        assert failed.status_code == 401
    for _ in range(2):
        failed = await web.post(SESSION, json={"username": "ada", "password": "wrong-password!"})
        assert failed.status_code == 401
    throttled = await web.post(SESSION, json={"username": "ada", "password": PASSWORD})
    assert throttled.status_code == 429
    assert throttled.headers["content-type"] == "application/problem+json"
    assert int(throttled.headers["retry-after"]) > 0
    assert not throttled.headers.get_list("set-cookie")


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ada"},
        {"username": "ada", "password": PASSWORD, "extra": 1},
        {"username": "a" * 255, "password": PASSWORD},
        {"username": "ada", "password": "p" * 257},
    ],
)
async def test_sign_in_bounds_its_input(
    web: AsyncClient, app: FastAPI, db: Database, body: dict[str, object]
) -> None:
    await make_user(app, db, "ada")
    response = await web.post(SESSION, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_sign_in_from_another_origin_is_refused(
    web: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    refused = await sign_in(web, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf-check-failed"
    assert not refused.headers.get_list("set-cookie")
    assert (await sign_in(web, headers={"Origin": BASE})).status_code == 200


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("csrf_header", "csrf_cookie"),
    [
        (None, "same"),  # the header is missing
        ("same", None),  # the cookie is missing
        ("other", "same"),  # the header differs from the cookie
        ("same", "other"),
    ],
)
async def test_refresh_without_the_matching_csrf_header_is_403(
    web: AsyncClient, app: FastAPI, db: Database, csrf_header: str | None, csrf_cookie: str | None
) -> None:
    await make_user(app, db, "ada")
    session = session_of(await sign_in(web))
    other = "bm9uY2U.c2lnbmF0dXJl"
    response = await call(
        web,
        "POST",
        REFRESH,
        session,
        csrf_header=other if csrf_header == "other" else csrf_header,
        csrf_cookie=other if csrf_cookie == "other" else csrf_cookie,
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "csrf-check-failed"
    # Refused before the token was used: it still works.
    assert (await call(web, "POST", REFRESH, session)).status_code == 200


async def test_a_planted_csrf_pair_that_matches_is_still_refused(
    web: AsyncClient, app: FastAPI, db: Database
) -> None:
    """A neighbouring site that can write cookies (cookie tossing) sets a `takt_csrf` of its own
    choosing and sends it as the header too: the token isn't bound to this session."""
    await make_user(app, db, "ada")
    await make_user(app, db, "eve")
    victim = session_of(await sign_in(web, "ada"))
    attacker = session_of(await sign_in(web, "eve"))
    for planted in ("chosen.by-the-attacker", attacker.csrf):
        response = await call(
            web, "POST", REFRESH, victim, csrf_header=planted, csrf_cookie=planted
        )
        assert response.status_code == 403, planted
        assert response.json()["code"] == "csrf-check-failed"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost:9999"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
async def test_a_cross_origin_refresh_is_403_even_with_the_csrf_token(
    web: AsyncClient, app: FastAPI, db: Database, headers: dict[str, str]
) -> None:
    await make_user(app, db, "ada")
    session = session_of(await sign_in(web))
    for method, path in (("POST", REFRESH), ("DELETE", SESSION), ("POST", EVERYWHERE)):
        response = await call(web, method, path, session, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "csrf-check-failed"
    assert await live_refresh_tokens(db) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": BASE},
        {"Origin": "http://127.0.0.1:8000"},  # TAKT_PUBLIC_URL's origin (the default)
        {"Sec-Fetch-Site": "same-origin"},
        {},
    ],
)
async def test_a_same_origin_refresh_is_accepted(
    web: AsyncClient, app: FastAPI, db: Database, headers: dict[str, str]
) -> None:
    await make_user(app, db, "ada")
    session = session_of(await sign_in(web))
    response = await call(web, "POST", REFRESH, session, headers=headers)
    assert response.status_code == 200, response.text


async def test_sign_out_and_everywhere_need_the_csrf_header(
    web: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    session = session_of(await sign_in(web))
    for method, path in (("DELETE", SESSION), ("POST", EVERYWHERE)):
        response = await call(web, method, path, session, csrf_header=None)
        assert response.status_code == 403
        assert response.json()["code"] == "csrf-check-failed"
    assert await live_refresh_tokens(db) == 1


# --- Refresh --------------------------------------------------------------------------------


async def test_refresh_rotates_the_cookie_and_the_csrf_token(
    web: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    first = session_of(await sign_in(web))
    refreshed = await call(web, "POST", REFRESH, first)
    second = session_of(refreshed)
    assert second.refresh != first.refresh
    assert second.csrf != first.csrf
    cookies = set_cookies(refreshed)
    assert "httponly" in cookies["takt_refresh"].flags
    assert cookies["takt_refresh"].attribute("Path") == SESSION
    assert (await web.get(ME, headers=bearer(second.access))).status_code == 200
    # The old CSRF token belongs to the spent refresh token: useless with the new one.
    stale = await call(web, "POST", REFRESH, second, csrf_header=first.csrf, csrf_cookie=first.csrf)
    assert stale.status_code == 403
    third = session_of(await call(web, "POST", REFRESH, second))
    assert third.refresh not in (first.refresh, second.refresh)


async def test_a_spent_refresh_cookie_is_refused_and_ends_the_session(
    web: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    first = session_of(await sign_in(web))
    second = session_of(await call(web, "POST", REFRESH, first))
    replayed = await call(web, "POST", REFRESH, first)
    assert replayed.status_code == 401
    assert replayed.headers["content-type"] == "application/problem+json"
    assert replayed.json()["code"] == "no-web-session"
    cleared = set_cookies(replayed)
    assert cleared["takt_refresh"].value in ("", '""')
    assert cleared["takt_refresh"].attribute("Max-Age") == "0"
    assert cleared["takt_csrf"].attribute("Max-Age") == "0"
    # Reuse means two holders: the whole family is revoked, the newer link too.
    assert (await call(web, "POST", REFRESH, second)).status_code == 401
    assert await live_refresh_tokens(db) == 0


async def test_refresh_without_a_session_cookie_is_401(web: AsyncClient) -> None:
    response = await call(web, "POST", REFRESH, None)
    assert response.status_code == 401
    assert response.json()["code"] == "no-web-session"
    garbage = WebSession("takt_rt_not-a-real-one", "x.y", "")
    forged = await call(web, "POST", REFRESH, garbage)
    assert forged.status_code == 403  # a CSRF token this server never issued for it


async def test_refresh_of_a_disabled_account_is_401(
    web: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    admin = await make_user(app, db, "root", admin=True)
    session = session_of(await sign_in(web))
    disabled = await web.patch(
        f"/api/v1/users/{ada.id}", json={"is_active": False}, headers=admin.headers
    )
    assert disabled.status_code == 200
    assert (await call(web, "POST", REFRESH, session)).status_code == 401


# --- Signing out ----------------------------------------------------------------------------


async def test_sign_out_revokes_the_session_and_clears_both_cookies(
    web: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    session = session_of(await sign_in(web))
    other = session_of(await sign_in(web))
    response = await call(web, "DELETE", SESSION, session)
    assert response.status_code == 204
    assert response.content == b""
    cleared = set_cookies(response)
    assert set(cleared) == {"takt_refresh", "takt_csrf"}
    assert cleared["takt_refresh"].attribute("Path") == SESSION
    assert cleared["takt_csrf"].attribute("Path") == "/"
    assert all(c.attribute("Max-Age") == "0" for c in cleared.values())
    assert (await call(web, "POST", REFRESH, session)).status_code == 401
    # Another sign-in (another tab's session, another browser) is untouched.
    assert (await call(web, "POST", REFRESH, other)).status_code == 200


async def test_sign_out_without_a_session_is_204(web: AsyncClient) -> None:
    response = await call(web, "DELETE", SESSION, None)
    assert response.status_code == 204
    assert set(set_cookies(response)) == {"takt_refresh", "takt_csrf"}


async def test_logout_everywhere_revokes_every_session_of_the_user(
    web: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    await make_user(app, db, "bob")
    here = session_of(await sign_in(web))
    elsewhere = session_of(await sign_in(web))
    api_login = await login(web, "ada")
    bobs = session_of(await sign_in(web, "bob"))
    _, pat = await make_pat(app, db, ada, ["read"])
    response = await call(web, "POST", EVERYWHERE, here)
    assert response.status_code == 204
    assert all(c.attribute("Max-Age") == "0" for c in set_cookies(response).values())
    assert (await call(web, "POST", REFRESH, here)).status_code == 401
    assert (await call(web, "POST", REFRESH, elsewhere)).status_code == 401
    token_refresh = await web.post(
        "/api/v1/auth/refresh", json={"refresh_token": api_login["refresh_token"]}
    )
    assert token_refresh.status_code == 401
    # Not another user's, and not the personal access tokens (credentials of their own).
    assert (await call(web, "POST", REFRESH, bobs)).status_code == 200
    assert (await web.get(ME, headers=bearer(pat))).status_code == 200
    # Signing in again works.
    assert (await sign_in(web)).status_code == 200


async def test_logout_everywhere_needs_a_live_session(
    web: AsyncClient, app: FastAPI, db: Database
) -> None:
    await make_user(app, db, "ada")
    assert (await call(web, "POST", EVERYWHERE, None)).status_code == 401
    first = session_of(await sign_in(web))
    second = session_of(await call(web, "POST", REFRESH, first))
    spent = await call(web, "POST", EVERYWHERE, first)
    assert spent.status_code == 401
    assert spent.json()["code"] == "no-web-session"
    assert (await call(web, "POST", REFRESH, second)).status_code == 200


async def test_session_events_are_audited(web: AsyncClient, app: FastAPI, db: Database) -> None:
    admin = await make_user(app, db, "ada", admin=True)
    session = session_of(await sign_in(web))
    assert (await call(web, "POST", EVERYWHERE, session)).status_code == 204
    log = await web.get("/api/v1/audit-log", headers=admin.headers)
    assert log.status_code == 200, log.text
    actions = [entry["action"] for entry in log.json()["data"]]
    assert "login.succeeded" in actions
    assert "logout.everywhere" in actions
