"""The admins' page of users and API keys, over real HTTP to `cartwire serve`: a key created
here is shown once and works, a revoked one is refused, a user added here can sign in, bad
input is named and changes nothing, and no one but an admin reaches the page."""

from collections.abc import Iterator

import httpx
import pytest

from tests.api.ui_support import PASSWORD, Server, serving, signed_in


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("ui-access") / "home"
    with serving(home, {"admin": "admin", "boss": "manager"}) as started:
        yield started


def _whoami(server: Server, key: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.get(f"{server.url}/api/v1/whoami", headers=headers, timeout=10)


def test_a_key_is_shown_once_works_and_stops_working_when_revoked(server: Server) -> None:
    with signed_in(server, "admin") as admin:
        form = {"csrf_token": admin.csrf_token, "name": "ci", "role": "user"}
        created = admin.client.post("/access/keys", data=form)
        assert created.status_code == 201
        key = created.text.split('<code id="new-key">', 1)[1].split("</code>", 1)[0]
        assert _whoami(server, key).json()["role"] == "user"
        listed = admin.client.get("/access").text
        assert key not in listed
        assert 'id="key-ci"' in listed
        again = admin.client.post("/access/keys", data=form)
        assert again.status_code == 422
        assert "name: &#39;ci&#39; is taken" in again.text

        revoked = admin.client.post("/access/keys/ci/revoke", data={"csrf_token": admin.csrf_token})
        assert revoked.status_code == 303
        assert _whoami(server, key).status_code == 401
        assert ">revoked<" in admin.client.get("/access").text


def test_a_user_added_here_signs_in_and_a_short_password_is_refused(server: Server) -> None:
    with signed_in(server, "admin") as admin:
        short = {"csrf_token": admin.csrf_token, "name": "ann", "role": "user", "password": "x1"}
        refused = admin.client.post("/access/users", data=short)
        assert refused.status_code == 422
        assert "password: must be at least 12 characters" in refused.text
        assert 'id="user-ann"' not in refused.text
        good = {**short, "password": PASSWORD}
        assert admin.client.post("/access/users", data=good).status_code == 303
        assert PASSWORD not in admin.client.get("/access").text
    with signed_in(server, "ann") as ann:
        assert ann.client.get("/runs").status_code == 200
    with signed_in(server, "admin") as admin:
        gone = admin.client.post("/access/users/ann/remove", data={"csrf_token": admin.csrf_token})
        assert gone.status_code == 303
        assert 'id="user-ann"' not in admin.client.get("/access").text


def test_only_an_admin_reaches_the_access_page(server: Server) -> None:
    with signed_in(server, "boss") as manager:
        assert manager.client.get("/access").status_code == 403
        assert 'href="/access"' not in manager.client.get("/").text
        form = {"csrf_token": manager.csrf_token, "name": "sneaky", "role": "admin"}
        assert manager.client.post("/access/keys", data=form).status_code == 403
    with signed_in(server, "admin") as admin:
        assert 'href="/access"' in admin.client.get("/").text
        assert 'id="key-sneaky"' not in admin.client.get("/access").text
