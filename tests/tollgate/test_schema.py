"""The OpenAPI schema documents the errors each operation answers (tollgate/schema.py)."""

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
    assert set(detail) == {"200", "401", "403", "404", "429"}  # a plain read takes no input to refuse
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
