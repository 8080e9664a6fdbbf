"""The OpenAPI schema documents the errors each operation answers (tollgate/schema.py), and declares every key the
answers hold."""

from typing import Any

from drf_spectacular.generators import SchemaGenerator


def operations() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)["paths"]


def test_error_responses_are_documented_where_they_can_happen():
    paths = operations()
    listing = paths["/api/initiatives/"]["get"]["responses"]
    # filters, no token, no role, a page past the end, past the rate limit
    assert {"200", "400", "401", "403", "404", "429"} <= set(listing)
    assert listing["403"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    detail = paths["/api/initiatives/{id}/"]["get"]["responses"]
    # a plain read refuses a query parameter it does not read (`?foo=1`)
    assert set(detail) == {"200", "400", "401", "403", "404", "429"}
    # A delete a service refuses (400) or that other rows still need (409, reference data).
    assert {"204", "400", "404"} <= set(paths["/api/kpis/{id}/"]["delete"]["responses"])
    assert "409" in paths["/api/vendors/{id}/"]["delete"]["responses"]
    # The token endpoint lets anonymous users in: no 403 and no rate limit (django-axes counts its failed passwords),
    # but a bad token header is still a 401.
    assert set(paths["/api/auth/token/"]["post"]["responses"]) == {"200", "400", "401"}



def test_a_verdict_is_documented_as_created():
    verdict = operations()["/api/reviews/reports/{id}/verdict/"]["post"]["responses"]
    assert "201" in verdict and "200" not in verdict


def test_no_record_is_described_by_the_shared_serializer_bases():
    """A serializer without a docstring of its own was described by tollgate.api_fields' base classes ("DRF's
    Serializer refusing, by name, ..."): 28 records of /api/docs read so."""
    from tollgate.api_fields import ModelSerializer, Serializer

    bases = {" ".join((cls.__doc__ or "").split()[:4]) for cls in (Serializer, ModelSerializer)}
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    described = {name: " ".join(schema.get("description", "").split()[:4]) for name, schema in components.items()}
    assert not [name for name, start in described.items() if start in bases]
    assert described["ValueReport"] == "A report with its"  # a serializer's own docstring stays


# The schema against live answers ------------------------------------------------------------------------------------


def undeclared(value: Any, schema: dict, components: dict, path: str = "") -> list[str]:
    """Where `value` (a JSON answer) holds what `schema` does not declare: a key of an object that is not among its
    properties (recursively, list items included), or a null where the schema does not say nullable."""
    while "$ref" in schema or ("allOf" in schema and len(schema["allOf"]) == 1):
        nullable = schema.get("nullable", False)
        ref = schema["$ref"] if "$ref" in schema else schema["allOf"][0]["$ref"]
        schema = {**components[ref.rsplit("/", 1)[-1]], **({"nullable": True} if nullable else {})}
    if value is None:
        return [] if schema.get("nullable") else [f"{path or '.'}: null, not declared nullable"]
    if "oneOf" in schema or "anyOf" in schema:
        options = [undeclared(value, option, components, path) for option in schema.get("oneOf", schema.get("anyOf"))]
        return min(options, key=len)
    if isinstance(value, dict):
        properties = schema.get("properties")
        if properties is None:
            extra = schema.get("additionalProperties")
            if not isinstance(extra, dict):
                return [f"{path or '.'}: a free-form object"]
            return [gap for key, item in value.items() for gap in undeclared(item, extra, components, f"{path}.{key}")]
        gaps = [f"{path}.{key}: not declared" for key in value if key not in properties]
        return gaps + [gap for key, item in value.items() if key in properties
                       for gap in undeclared(item, properties[key], components, f"{path}.{key}")]
    if isinstance(value, list):
        return [gap for index, item in enumerate(value)
                for gap in undeclared(item, schema.get("items", {}), components, f"{path}[{index}]")]
    return []


def answer_schema(schema: dict, path: str, method: str = "get") -> dict:
    return schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]


def test_every_key_of_the_dashboard_and_scores_answers_is_in_the_schema(demo, api_client, admin_user):
    """The dashboard's schema declared 20 of its 35 keys, and its figures as free-form objects; the scores were a bare
    object. Every key of the demo's live answers, and every null in them, is declared now, to the last list item."""
    from portfolio.models import Initiative

    api_client.force_authenticate(admin_user)
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    dashboard = answer_schema(schema, "/api/dashboard/")
    department = Initiative.objects.order_by("pk").first().department_id
    for query in ({}, {"department": department}, {"quarter": "2019-Q1"}):
        answer = api_client.get("/api/dashboard/", query).json()
        assert answer["figures"] and "forecast" in answer, query
        assert undeclared(answer, dashboard, components) == [], query
    scores = answer_schema(schema, "/api/governance/initiatives/{id}/scores/")
    scored = [pk for pk in Initiative.objects.order_by("pk").values_list("pk", flat=True)[:60]
              if api_client.get(f"/api/governance/initiatives/{pk}/scores/").json()["reviewers"]]
    assert scored
    for pk in (scored[0], Initiative.objects.order_by("pk").first().pk):
        answer = api_client.get(f"/api/governance/initiatives/{pk}/scores/").json()
        assert undeclared(answer, scores, components) == [], pk
    assert answer_schema(schema, "/api/governance/initiatives/{id}/scores/", "post") == scores


def test_the_schema_walk_finds_an_undeclared_key():
    components = {"A": {"type": "object", "properties": {"x": {"type": "array", "items": {"$ref": "#/c/B"}}}},
                  "B": {"type": "object", "properties": {"y": {"type": "integer"}}}}
    assert undeclared({"x": [{"y": 1}]}, {"$ref": "#/c/A"}, components) == []
    assert undeclared({"x": [{"y": None, "z": 2}], "w": 0}, {"$ref": "#/c/A"}, components) == [
        ".w: not declared", ".x[0].z: not declared", ".x[0].y: null, not declared nullable"]
    assert undeclared({"x": {}}, {"type": "object"}, components) == [".: a free-form object"]


# The schema is generated once per process (tollgate/schema_view.py) ----------------------------------------------


def test_the_kept_schema_is_the_one_a_fresh_generation_answers(db, reviewer, api_client):
    from drf_spectacular.views import SpectacularAPIView
    from rest_framework.test import APIRequestFactory, force_authenticate

    from tollgate import schema_view

    schema_view.forget_schemas()
    api_client.force_authenticate(reviewer)
    kept = []
    for _ in range(2):
        for accept in ("application/vnd.oai.openapi+json", "application/vnd.oai.openapi"):
            response = api_client.get("/api/schema/", HTTP_ACCEPT=accept)
            assert response.status_code == 200
            kept.append((response["Content-Type"], response.content))
    assert len(schema_view._SCHEMAS) == 1  # the second round was answered from what the first one generated
    fresh = []
    for accept in ("application/vnd.oai.openapi+json", "application/vnd.oai.openapi"):
        request = APIRequestFactory().get("/api/schema/", HTTP_ACCEPT=accept)
        force_authenticate(request, reviewer)
        response = SpectacularAPIView.as_view()(request).render()
        fresh.append((response["Content-Type"], response.content))
    assert kept == fresh * 2


def test_anonymous_is_still_refused_the_kept_schema(db, reviewer, api_client):
    api_client.force_authenticate(reviewer)
    assert api_client.get("/api/schema/").status_code == 200  # generated and kept
    api_client.force_authenticate(None)
    assert api_client.get("/api/schema/").status_code == 401


def test_a_changed_setting_forgets_the_kept_schema(db, reviewer, api_client, settings):
    from tollgate import schema_view

    api_client.force_authenticate(reviewer)
    api_client.get("/api/schema/")
    assert schema_view._SCHEMAS
    settings.API_RATE_LIMIT = "1000/hour"
    assert not schema_view._SCHEMAS
