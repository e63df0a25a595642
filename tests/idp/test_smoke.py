from tests.idp.conftest import login, register


def test_register_and_login(app, client):
    m = register(app, client)
    r = login(client, m.email, m.hash_key)
    assert r.status_code == 200, r.json
