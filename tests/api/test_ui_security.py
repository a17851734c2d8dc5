"""What the web UI refuses, over real HTTP to `cartwire serve`: pages without a session, forms
without their CSRF token, changes by a read-only user, and a login guessed too often."""

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.routing import APIRoute

from cartwire.api.ui.routes import PARTS
from tests.api.ui_support import PASSWORD, Server, csrf_field, serving, signed_in

# The pages as links share them: with query strings, so `next` must carry them back.
SHARED_LINKS = ("/instances/new?connector=commercetools", "/runs?flow=a&status=failed")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("ui-security") / "home"
    with serving(home, {"admin": "admin", "reader": "read-only"}) as started:
        yield started


def test_the_first_login_page_says_how_to_create_the_first_user(server: Server) -> None:
    assert "cartwire users add NAME --role admin" in server.first_login_page
    assert "cartwire users add" not in httpx.get(f"{server.url}/login").text


def _ui_routes(method: str) -> list[str]:
    """Every route of the web UI's routers for `method` (but signing in and out), with
    made-up names and ids: a page or form added later is tried without anyone listing it."""
    paths = [
        re.sub(r"\{[^}]*_id\}", "1", re.sub(r"\{name\}", "any", route.path))
        for part in PARTS
        for route in part.router.routes
        if isinstance(route, APIRoute) and method in (route.methods or ())
    ]
    return [path for path in paths if path not in ("/login", "/logout")]


@pytest.mark.parametrize("path", [*_ui_routes("GET"), *SHARED_LINKS])
def test_a_page_without_a_session_redirects_to_the_login(server: Server, path: str) -> None:
    answer = httpx.get(f"{server.url}{path}", follow_redirects=False)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("/login?next=%2F")
    back = httpx.get(f"{server.url}{location}")
    assert f'name="next" value="{path}"'.replace("&", "&amp;") in back.text


def test_a_page_with_an_unknown_session_redirects_to_the_login(server: Server) -> None:
    answer = httpx.get(
        f"{server.url}/instances", cookies={"cartwire_session": "expired-or-made-up"}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Finstances"


def test_a_login_without_its_csrf_cookie_is_refused(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        token = csrf_field(client.get("/login").text)
        client.cookies.clear()
        answer = client.post(
            "/login", data={"name": "admin", "password": PASSWORD, "csrf_token": token}
        )
    assert answer.status_code == 403
    assert "cartwire_session" not in answer.cookies


def test_the_session_cookie_is_httponly_and_samesite_lax(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        token = csrf_field(client.get("/login").text)
        answer = client.post(
            "/login", data={"name": "admin", "password": PASSWORD, "csrf_token": token}
        )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "cartwire_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # served over http here


def test_the_session_cookie_is_secure_behind_a_tls_proxy(server: Server) -> None:
    """A proxy on this machine that terminated TLS says so (X-Forwarded-Proto, trusted from
    loopback as uvicorn's proxy headers are): the browser then sends the cookies over https
    only. This client speaks plain http to the server, as the proxy would, so it hands the
    login form's (Secure) cookie back itself: a cookie jar keeps a Secure cookie off http."""
    behind_tls = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=server.url, headers=behind_tls) as client:
        form = client.get("/login")
        form_cookie = form.headers["set-cookie"]
        assert "; secure" in form_cookie.lower()
        name, value = form_cookie.split(";", 1)[0].split("=", 1)
        client.cookies.clear()
        answer = client.post(
            "/login",
            data={"name": "admin", "password": PASSWORD, "csrf_token": csrf_field(form.text)},
            headers={"Cookie": f"{name}={value}"},
        )
    assert answer.status_code == 303, answer.text
    cookies = [value.lower() for key, value in answer.headers.multi_items() if key == "set-cookie"]
    session = [cookie for cookie in cookies if cookie.startswith("cartwire_session=")]
    assert session, cookies
    assert "; secure" in session[0]
    assert "httponly" in session[0]


def test_a_form_post_without_its_csrf_token_is_refused(server: Server) -> None:
    with signed_in(server, "admin") as admin:
        form = {"connector": "commercetools", "name": "nocsrf", "field.client_id": "x"}
        assert admin.client.post("/instances/new", data=form).status_code == 403
        wrong = {**form, "csrf_token": "not-the-token"}
        assert admin.client.post("/instances/new", data=wrong).status_code == 403
        assert admin.client.post("/logout").status_code == 403
        assert "nocsrf" not in admin.client.get("/instances").text
        assert admin.client.get("/").status_code == 200  # still signed in


def test_a_refused_field_is_named_beside_it_and_no_secret_comes_back(server: Server) -> None:
    with signed_in(server, "admin") as admin:
        answer = admin.client.post(
            "/instances/new",
            data={
                "csrf_token": admin.csrf_token,
                "connector": "commercetools",
                "name": "badzone",
                "timezone": "Mars/Olympus_Mons",
                "field.client_id": "someone",
                "field.client_secret": "s3cret-never-shown-again",
            },
        )
        assert answer.status_code == 422
        assert 'id="error-timezone"' in answer.text
        assert "unknown time zone" in answer.text
        assert "s3cret-never-shown-again" not in answer.text
        assert "badzone" not in admin.client.get("/instances").text


def test_logging_out_ends_the_session(server: Server) -> None:
    with signed_in(server, "admin") as admin:
        done = admin.client.post("/logout", data={"csrf_token": admin.csrf_token})
        assert (done.status_code, done.headers["location"]) == (303, "/login")
        assert admin.client.get("/").status_code == 303


def test_a_read_only_user_sees_no_buttons_and_cannot_post(server: Server) -> None:
    with signed_in(server, "reader") as reader:
        page = reader.client.get("/instances").text
        assert "Add an instance" not in page
        assert "hx-post" not in page
        headers = {"X-CSRF-Token": reader.csrf_token}
        form = {"csrf_token": reader.csrf_token, "connector": "commercetools", "name": "ro"}
        assert reader.client.post("/instances/new", data=form).status_code == 403
        assert reader.client.get("/instances/new").status_code == 403
        posts = _ui_routes("POST")
        assert {"/access/keys", "/flows/any/run", "/runs/1/retry"} <= set(posts)
        for path in posts:
            assert reader.client.post(path, headers=headers).status_code == 403, path
        assert "Run now" not in reader.client.get("/flows").text


def test_logins_are_rate_limited_per_name(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        token = csrf_field(client.get("/login").text)
        guess = {"name": "guessed", "password": "wrong password!", "csrf_token": token}
        answers = [client.post("/login", data=guess).status_code for _ in range(6)]
        assert answers == [401] * 5 + [429]
        assert "Too many login attempts" in client.post("/login", data=guess).text
        other = {**guess, "name": "admin", "password": PASSWORD}
        assert client.post("/login", data=other).status_code == 303


def test_a_login_goes_back_to_the_page_asked_for_but_never_off_site(server: Server) -> None:
    for asked, landed in (("/connectors", "/connectors"), ("https://evil.example/", "/")):
        with httpx.Client(base_url=server.url) as client:
            token = csrf_field(client.get("/login").text)
            answer = client.post(
                "/login",
                data={"name": "admin", "password": PASSWORD, "csrf_token": token, "next": asked},
            )
            assert answer.headers["location"] == landed
