"""/openapi.json and /docs: a valid OpenAPI 3.1 reference of every idp API route, built from the
same declarations that parse the requests, served with a strict CSP (DESIGN.md §6.7)."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from tests.conftest import random_email
from tests.idp.conftest import register

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
# Routes that are not part of the JSON API: files, the health probe, the reference itself, the
# development mailbox, and the HTML app shell (a page, not an operation).
NOT_API = re.compile(r"^(/static/|/health$|/docs|/openapi\.json$|/dev/|/widget\.js$|/$)")

# The names the specification puts on the wire (issue #2), per schema.
WIRE_NAMES = {
    "InitiateRegistrationIn": {"email", "privacy_accepted"},
    "VerifyEmailIn": {"email", "code", "uuid"},
    "ResendCodeIn": {"email", "uuid"},
    "CompleteIn": {"email", "hashKey", "uuid"},
    "InitiateLoginIn": {"email"},
    "RefreshIn": {"refreshToken"},
    "LogoutIn": {"refreshToken"},
    "AttemptOut": {"uuid", "serverSalt", "kdf"},
    "LoginAttemptOut": {"uuid", "serverSalt", "kdf", "kdfEmail"},
    "TokensOut": {"accessToken", "refreshToken", "expiresIn", "tokenType"},
}
REQUEST_SCHEMAS = {
    ("/auth/initiate-registration", "post"): "InitiateRegistrationIn",
    ("/auth/verify-email", "post"): "VerifyEmailIn",
    ("/auth/resend-code", "post"): "ResendCodeIn",
    ("/auth/complete-registration", "post"): "CompleteIn",
    ("/auth/initiate-login", "post"): "InitiateLoginIn",
    ("/auth/complete-login", "post"): "CompleteIn",
    ("/auth/refresh-token", "post"): "RefreshIn",
    ("/auth/logout", "post"): "LogoutIn",
}
OPTIONAL_FIELDS = {"LogoutIn": {"refreshToken"}}  # the access token names the session
SNAKE_TWINS = {"hash_key", "server_salt", "access_token", "refresh_token", "expires_in",
               "token_type", "privacyAccepted"}


@pytest.fixture
def document(client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in document["paths"].items()
            for method, op in item.items() if method in HTTP_METHODS]


def schema_name(ref: str) -> str:
    prefix = "#/components/schemas/"
    assert ref.startswith(prefix), ref
    return ref.removeprefix(prefix)


def body_schema(op: dict[str, Any]) -> str:
    return schema_name(op["requestBody"]["content"]["application/json"]["schema"]["$ref"])


def response_validator(document: dict[str, Any], name: str) -> Draft202012Validator:
    """A JSON Schema validator for one component, with the others reachable by $ref."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return Draft202012Validator(schema)


def flask_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def api_rules(app) -> list[Any]:
    return [r for r in app.url_map.iter_rules()
            if r.endpoint != "static" and not NOT_API.match(r.rule)]


# -- the document ------------------------------------------------------------------------------

def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any problem
    assert not list(OpenAPIV31SpecValidator(document).iter_errors())
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"] == [{"url": "http://idp.test"}]


def test_a_broken_document_is_caught(document):
    """The validation above can fail: an undeclared path parameter is reported."""
    document["paths"]["/auth/sessions/{session_id}"]["delete"].pop("parameters")
    with pytest.raises(Exception, match="session_id"):
        validate(document)


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_every_reference_resolves(document):
    """The validator does not follow $ref into components; a dangling one would pass it."""
    found = refs(document)
    assert found
    for ref in found:
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(target, dict) and part in target, ref
            target = target[part]
    schemes = set(document["components"]["securitySchemes"])
    for _, _, op in operations(document):
        for requirement in op.get("security", []):
            assert set(requirement) <= schemes


def test_every_api_route_is_documented_with_its_methods(app, document):
    documented = {(path, method) for path, method, _ in operations(document)}
    expected = set()
    for rule in api_rules(app):
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            expected.add((flask_path(rule.rule), method.lower()))
    assert expected <= documented, expected - documented
    assert documented <= expected, documented - expected  # nothing documented that isn't there
    auth_routes = {p for p, _ in expected if p.startswith("/auth/")}
    assert {"/auth/initiate-registration", "/auth/verify-email", "/auth/resend-code",
            "/auth/complete-registration", "/auth/initiate-login", "/auth/complete-login",
            "/auth/refresh-token", "/auth/logout", "/auth/sessions",
            "/auth/sessions/{session_id}"} <= auth_routes
    for must in [("/privacy-policy", "get"), ("/.well-known/jwks.json", "get"),
                 ("/auth/sessions", "get"), ("/auth/sessions/{session_id}", "delete"),
                 *REQUEST_SCHEMAS]:
        assert must in documented, must


def test_every_api_view_carries_a_declaration(app):
    """Nothing escapes the reference: a view without ``@endpoint`` would be undocumented."""
    undeclared = [f"{r.rule} ({r.endpoint})" for r in api_rules(app)
                  if getattr(app.view_functions[r.endpoint], "__openapi__", None) is None]
    assert undeclared == []
    assert len(api_rules(app)) >= 12  # the exclusions did not swallow the API


def test_operation_ids_are_unique_and_path_parameters_declared(document):
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))
    for path, _, op in operations(document):
        names = set(re.findall(r"{([^}]+)}", path))
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert names == declared, path


def test_request_bodies_use_the_wire_names(document):
    schemas = document["components"]["schemas"]
    for (path, method), name in REQUEST_SCHEMAS.items():
        op = document["paths"][path][method]
        assert op["requestBody"]["required"] is True
        assert body_schema(op) == name, path
    for name, fields in WIRE_NAMES.items():
        schema = schemas[name]
        assert set(schema["properties"]) == fields, name
        assert schema.get("additionalProperties") is False, name
    for name in REQUEST_SCHEMAS.values():
        required = WIRE_NAMES[name] - OPTIONAL_FIELDS.get(name, set())
        assert set(schemas[name].get("required", [])) == required, name
    # The /auth/* API speaks camelCase for these (an OAuth token endpoint, RFC 6749, may not).
    auth_schemas = {schema_name(ref) for path, item in document["paths"].items()
                    if path.startswith("/auth/") for ref in refs(item)}
    assert set(WIRE_NAMES) <= auth_schemas
    for name in auth_schemas:
        assert not SNAKE_TWINS & set(schemas[name].get("properties", {})), name
    assert schemas["CompleteIn"]["properties"]["hashKey"]["pattern"] == "^[A-Za-z0-9_-]{43}$"
    assert schemas["InitiateRegistrationIn"]["properties"]["privacy_accepted"]["type"] \
        == "boolean"
    assert schemas["VerifyEmailIn"]["properties"]["code"]["pattern"] == "^[0-9]{6}$"


def test_token_responses_reference_the_tokens_schema(document):
    for path, status in (("/auth/complete-registration", "201"), ("/auth/complete-login", "200"),
                         ("/auth/refresh-token", "200")):
        content = document["paths"][path]["post"]["responses"][status]["content"]
        assert schema_name(content["application/json"]["schema"]["$ref"]) == "TokensOut"
    for path, name in (("/auth/initiate-registration", "AttemptOut"),
                       ("/auth/initiate-login", "LoginAttemptOut")):  # + kdfEmail, PROTOCOL §2
        content = document["paths"][path]["post"]["responses"]["200"]["content"]
        assert schema_name(content["application/json"]["schema"]["$ref"]) == name


def test_bearer_operations_declare_security(document):
    schemes = document["components"]["securitySchemes"]
    for name in ("bearer", "memberApi"):
        assert schemes[name]["type"] == "http" and schemes[name]["scheme"] == "bearer"
    assert "security" not in document  # no global requirement: public endpoints stay public
    secured = {(p, m) for p, m, op in operations(document) if op.get("security")}
    assert {("/auth/logout", "post"), ("/auth/sessions", "get"),
            ("/auth/sessions/{session_id}", "delete")} <= secured
    for path, method, op in operations(document):
        if (path, method) in secured:
            assert op["security"] in ([{"bearer": []}], [{"memberApi": []}], [{"coopToken": []}],
                                      [{"clientAuth": []}], [{"sessionCookie": []}]), path
            assert "401" in op["responses"], path
    public = {(p, m) for p, m, _ in operations(document)} - secured
    assert set(REQUEST_SCHEMAS) - {("/auth/logout", "post")} <= public
    assert {("/privacy-policy", "get"), ("/.well-known/jwks.json", "get")} <= public


def test_declared_security_matches_what_the_server_enforces(client, document):
    """Called without a token, exactly the operations that declare security answer 401."""
    for path, method, op in operations(document):
        url = re.sub(r"{[^}]+}", str(uuid.uuid4()), path)
        kwargs = {"json": {}} if "requestBody" in op else {}
        response = client.open(url, method=method.upper(), **kwargs)
        declared = bool(op.get("security"))
        assert (response.status_code == 401) == declared, (path, method, response.status_code)
        if declared:
            # idp's own codes, or RFC 6749's / RFC 6750's on the OAuth endpoints
            assert response.get_json()["error"] in {"missing_token", "unauthorized",
                                                    "invalid_client", "invalid_token",
                                                    "no_session"}


def test_real_responses_match_the_documented_schemas(app, client, document):
    """The reference describes what the server actually sends, names included."""
    email = random_email()
    started = client.post("/auth/initiate-registration",
                          json={"email": email, "privacy_accepted": True})
    response_validator(document, "AttemptOut").validate(started.get_json())
    member = register(app, client)
    response_validator(document, "TokensOut").validate(member.tokens)
    assert set(member.tokens) == WIRE_NAMES["TokensOut"]
    refreshed = client.post("/auth/refresh-token",
                            json={"refreshToken": member.tokens["refreshToken"]})
    response_validator(document, "TokensOut").validate(refreshed.get_json())
    sessions = client.get("/auth/sessions", headers=member.bearer)
    response_validator(document, "SessionsOut").validate(sessions.get_json())
    policy = client.get("/privacy-policy")
    response_validator(document, "PrivacyPolicyOut").validate(policy.get_json())
    jwks = client.get("/.well-known/jwks.json")
    response_validator(document, "Jwks").validate(jwks.get_json())
    unauthorized = client.get("/auth/sessions")
    response_validator(document, "ErrorBody").validate(unauthorized.get_json())


def test_validation_errors_match_the_documented_error_schema(client, document):
    refused = client.post("/auth/initiate-login", json={"email": 42})
    assert refused.status_code == 400 and "details" in refused.get_json()
    response_validator(document, "ErrorBody").validate(refused.get_json())


# -- /docs -------------------------------------------------------------------------------------

class Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline: list[str] = []
        self.styles: list[str] = []
        self.handlers: list[str] = []
        self.spec: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.handlers += [name for name in attributes if name.startswith("on")]
        if tag == "script":
            self.scripts.append(attributes)
            self._in_script = True
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.styles.append(attributes["href"] or "")
        if tag == "style":
            self.inline.append("<style>")
        if "data-spec" in attributes:
            self.spec.append(attributes["data-spec"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data)


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def test_docs_page_has_no_inline_script_and_a_strict_csp(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = Assets()
    page.feed(response.get_data(as_text=True))
    assert page.scripts, "Swagger UI needs its scripts"
    assert all(script.get("src") for script in page.scripts)
    assert page.inline == [] and page.handlers == []
    csp = csp_directives(response.headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert "'self'" in csp["default-src"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_docs_assets_are_served(client):
    page = Assets()
    page.feed(client.get("/docs").get_data(as_text=True))
    assert page.styles
    for src in [s["src"] for s in page.scripts]:
        assert src and src.startswith("/"), src  # same origin: script-src 'self' allows it
        asset = client.get(src)
        assert asset.status_code == 200, src
        assert asset.mimetype in {"text/javascript", "application/javascript"}, src
        assert len(asset.get_data()) > 0
    for href in page.styles:
        assert href.startswith("/"), href
        asset = client.get(href)
        assert asset.status_code == 200, href
        assert asset.mimetype == "text/css", href
    assert page.spec == ["/openapi.json"]
    assert client.get(page.spec[0]).get_json()["openapi"].startswith("3.1")


@pytest.mark.parametrize("name", ["../../settings.py", "..%2F..%2Fsettings.py",
                                  "nope.js", "../api.py"])
def test_docs_files_do_not_escape_the_swagger_folder(client, name):
    response = client.get(f"/docs/swagger/{name}")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
