"""The access-token exchange and token scoping."""

from __future__ import annotations

import jwt
import pytest

from atoll.services.access import create_api_token, revoke_api_token
from tests.assets.conftest import PUBLIC_URL, Env
from tests.errors import error_of

ACCESS = "/api/v2.1/dtable/app-access-token/"


def test_app_access_token_shape(env: Env) -> None:
    r = env.client.get(ACCESS, headers=env.auth())
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"app_name", "access_token", "dtable_uuid", "dtable_server", "dtable_db",
                         "workspace_id", "dtable_name", "use_api_gateway"}
    assert body["dtable_uuid"] == env.uuid and body["dtable_uuid"] == body["dtable_uuid"].lower()
    assert body["dtable_server"] == PUBLIC_URL + "/api-gateway/"
    assert body["dtable_db"] == PUBLIC_URL + "/dtable-db/"
    assert isinstance(body["workspace_id"], int)
    assert body["use_api_gateway"] is True and body["dtable_name"] == "Demo"
    claims = jwt.decode(body["access_token"], env.ctx.secret, algorithms=["HS256"])
    assert claims["dtable_uuid"] == env.uuid and claims["permission"] == "rw"
    assert claims["exp"] - claims["iat"] == 3 * 24 * 3600


@pytest.mark.parametrize("header", ["Bearer {t}", "token {t}", "TOKEN {t}"])
def test_prefixes(env: Env, header: str) -> None:
    r = env.client.get(ACCESS, headers={"Authorization": header.format(t=env.token)})
    assert r.status_code == 200


@pytest.mark.parametrize("header", [None, "", "Token", "Token a b", "Basic abc", "Token " + "0" * 40,
                                    "Token ' OR 1=1 --"])
def test_bad_credentials(env: Env, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    r = env.client.get(ACCESS, headers=headers)
    assert r.status_code == 403 and error_of(r) == {"error_msg": "Permission denied."}


def test_revoked_token(env: Env) -> None:
    assert revoke_api_token(env.ctx.engine, env.token)
    assert env.client.get(ACCESS, headers=env.auth()).status_code == 403
    assert env.client.get("/api/v2.1/dtable/app-upload-link/", headers=env.auth()).status_code == 403


def test_read_only_token(env: Env) -> None:
    ro = create_api_token(env.ctx.engine, base="Demo", permission="r").token
    assert env.client.get(ACCESS, headers=env.auth(ro)).status_code == 200
    r = env.client.get("/api/v2.1/dtable/app-upload-link/", headers=env.auth(ro))
    assert r.status_code == 403
    r = env.client.get("/api/v2.1/dtable/custom/app-upload-link/", params={"path": "/"},
                       headers=env.auth(ro))
    assert r.status_code == 403
    env.upload("f.txt", b"f")
    assert env.download_link("files/2026-11/f.txt", ro).status_code == 200
    r = env.client.delete("/api/v2.1/dtable/app-asset/", params={"path": "files/2026-11/f.txt"},
                          headers=env.auth(ro))
    assert r.status_code == 403


def test_expired_access_token(env: Env) -> None:
    expired = jwt.encode({"exp": 1, "dtable_uuid": env.uuid, "permission": "rw"}, env.ctx.secret,
                         algorithm="HS256")
    url = f"/workspace/{env.workspace_id}/asset/{env.uuid}/files/x.txt"
    r = env.client.get(url, headers={"Authorization": "Token " + expired})
    assert r.status_code == 403 and error_of(r) == {"error_msg": "Token expired."}


@pytest.mark.parametrize("alg_token", ["none", "other-key", "no-exp"])
def test_forged_access_tokens(env: Env, alg_token: str) -> None:
    claims = {"exp": 4102444800, "dtable_uuid": env.uuid, "permission": "rw"}
    if alg_token == "none":
        token = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    elif alg_token == "other-key":
        token = jwt.encode(claims, b"k" * 32, algorithm="HS256")
    else:
        token = jwt.encode({"dtable_uuid": env.uuid, "permission": "rw"}, env.ctx.secret, algorithm="HS256")
    url = f"/workspace/{env.workspace_id}/asset/{env.uuid}/files/x.txt"
    r = env.client.get(url, headers={"Authorization": "Token " + token})
    assert r.status_code == 403


def test_one_base_token_never_opens_another(env: Env) -> None:
    other = create_api_token(env.ctx.engine, base="Other", workspace="W2")
    env.upload("secret.txt", b"s")
    # base B's API token asks for base A's file: its own base has no such path
    assert env.download_link("files/2026-11/secret.txt", other.token).status_code == 400
    # base B's tokens on base A's asset URL
    url = f"/workspace/{env.workspace_id}/asset/{env.uuid}/files/2026-11/secret.txt"
    assert env.client.get(url, headers=env.auth(other.token), follow_redirects=False).status_code == 403
    access = env.client.get(ACCESS, headers=env.auth(other.token)).json()["access_token"]
    r = env.client.get(url, headers={"Authorization": "Token " + access}, follow_redirects=False)
    assert r.status_code == 403


def test_ticket_cache_never_crosses_secrets() -> None:
    from atoll.errors import PermissionDenied
    from atoll.services.access import issue_ticket, verify_ticket

    ticket = issue_ticket("download", "u", "/files/a.txt", b"a" * 32, 60)
    assert verify_ticket(ticket, "download", b"a" * 32).path == "/files/a.txt"  # now cached
    with pytest.raises(PermissionDenied):
        verify_ticket(ticket, "download", b"b" * 32)
    with pytest.raises(PermissionDenied):
        verify_ticket(ticket, "upload", b"a" * 32)
