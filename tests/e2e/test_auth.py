"""Logging in, and what happens without a valid token (docs/api.md, "Health and auth")."""
import requests

from eaglelib import assert_error


def test_health_answers_without_auth(eagle):
    r = requests.get(eagle.url + "/v1/health", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["version"]


def test_login_with_the_admin_password_gives_a_working_token(eagle):
    r = eagle.api("POST", "/v1/auth/login", json={"username": "admin", "password": eagle.password}, token=None)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["username"] == "admin"
    assert body["token"] and body["expires_at"]
    me = eagle.api("GET", "/v1/me", token=body["token"])
    assert me.status_code == 200, me.text
    assert me.json() == {"username": "admin", "role": "admin"} or \
        (me.json()["username"] == "admin" and me.json()["role"] == "admin")


def test_login_with_a_wrong_password_is_refused(eagle):
    r = eagle.api("POST", "/v1/auth/login", json={"username": "admin", "password": eagle.password + "x"},
                  token=None)
    err = assert_error(r, 401, "unauthorized")
    assert "token" not in r.json()
    assert eagle.password not in err["message"]


def test_login_as_an_unknown_user_is_refused(eagle):
    r = eagle.api("POST", "/v1/auth/login", json={"username": "nobody", "password": eagle.password},
                  token=None)
    assert_error(r, 401, "unauthorized")


def test_a_call_without_a_token_is_refused(eagle):
    assert_error(eagle.api("GET", "/v1/services", token=None), 401, "unauthorized")
    assert_error(eagle.api("GET", "/v1/clusters", token=None), 401, "unauthorized")


def test_a_garbage_token_is_refused(eagle):
    for token in ("garbage", eagle.token + "x", eagle.token[:-1], "x" * 4096):
        assert_error(eagle.api("GET", "/v1/services", token=token), 401, "unauthorized")
    r = eagle.api("GET", "/v1/services", token=None, headers={"Authorization": "Basic " + eagle.token})
    assert_error(r, 401, "unauthorized")


def test_logout_revokes_the_token(eagle):
    token = eagle.login()
    assert eagle.api("GET", "/v1/me", token=token).status_code == 200
    r = eagle.api("POST", "/v1/auth/logout", token=token)
    assert r.status_code == 204, r.text
    assert_error(eagle.api("GET", "/v1/me", token=token), 401, "unauthorized")
    eagle.login()  # the fixture's token for the rest of the test and teardown


def test_an_unknown_route_is_404_and_a_wrong_method_405(eagle):
    assert_error(eagle.api("GET", "/v1/no-such-thing"), 404, "not_found")
    assert_error(eagle.api("PATCH", "/v1/services"), 405, "method_not_allowed")
