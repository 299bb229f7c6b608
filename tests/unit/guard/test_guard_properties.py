"""Property-based: the guard never crashes, and never accepts a label or key outside the schema."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scim_processor.guard import CypherGuard
from tests.guard_support import movies_graph_schema

SCHEMA = movies_graph_schema()
GUARD = CypherGuard(SCHEMA, cache_size=16)
LABELS = sorted(SCHEMA.node_props)
KEYS = sorted({k for props in SCHEMA.node_props.values() for k in props})
RELS = sorted(SCHEMA.relationship_types)
INTERNAL = "the guard cannot check this query"  # the message of a checker crash turned into a rejection
NAMES = st.text(alphabet=st.characters(categories=["Lu", "Ll"]), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_never_crashes_on_arbitrary_text(text: str) -> None:
    report = GUARD.check(text, read_only=True)
    assert isinstance(report.valid, bool)
    assert not any(INTERNAL in p.message for p in report.problems), report.problems


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "MATCH",
                "(",
                ")",
                "-[",
                "]->",
                ":Person",
                "n",
                ".",
                "name",
                "RETURN",
                "{",
                "}",
                ",",
                "WITH",
                "$x",
                "SET",
                "=",
            ]
        ),
        max_size=25,
    )
)
def test_never_crashes_on_cypher_like_token_soup(tokens: list[str]) -> None:
    report = GUARD.check(" ".join(tokens))
    assert not any(INTERNAL in p.message for p in report.problems), report.problems


@settings(max_examples=300, deadline=None)
@given(
    label=st.one_of(st.sampled_from(LABELS), NAMES),
    key=st.one_of(st.sampled_from(KEYS), NAMES),
    rel=st.one_of(st.sampled_from(RELS), NAMES),
    other=st.one_of(st.sampled_from(LABELS), NAMES),
    shape=st.integers(0, 5),
)
def test_never_accepts_a_name_outside_the_schema(
    label: str, key: str, rel: str, other: str, shape: int
) -> None:
    query = [
        f"MATCH (n:`{label}`) RETURN n.`{key}`",
        f"MATCH (n:`{label}`)-[:`{rel}`]->(m:`{other}`) RETURN m",
        f"MATCH (n:`{label}`) WITH n AS x RETURN x.`{key}`",
        f"CREATE (n:`{label}` {{`{key}`: 1}})",
        f"MATCH (n) WHERE n:`{label}` WITH collect(n) AS ns UNWIND ns AS y RETURN y.`{key}`",
        f"MATCH (n:`{label}`) SET n += {{`{key}`: $v}}",
    ][shape]
    used_labels = {label} if shape != 1 else {label, other}
    used_rels = {rel} if shape == 1 else set()
    uses_key = shape != 1
    outside = (
        any(name not in SCHEMA.node_props for name in used_labels)
        or any(name not in SCHEMA.relationship_types for name in used_rels)
        or (uses_key and key not in {k for props in SCHEMA.node_props.values() for k in props})
    )
    if outside:
        assert not GUARD.check(query).valid, query


def _joined(start: str, end: str, types: set[str] | None, hops: int, direction: str) -> bool:
    """Brute force: is there a walk of exactly ``hops`` relationships of ``types`` from start to end?"""
    edges = {(s, e) for s, t, e in SCHEMA.relationships if types is None or t in types}
    if direction == "<-":
        edges = {(e, s) for s, e in edges}
    elif direction == "--":
        edges |= {(e, s) for s, e in edges}
    frontier = {start}
    for _ in range(hops):
        frontier = {e for s, e in edges if s in frontier}
    return end in frontier


@settings(max_examples=300, deadline=None)
@given(
    start=st.sampled_from(LABELS),
    end=st.sampled_from(LABELS),
    rel=st.one_of(st.none(), st.sampled_from(RELS)),
    hops=st.integers(1, 3),
    direction=st.sampled_from(["->", "<-", "--"]),
    form=st.sampled_from(["hops", "quantified", "path"]),
)
def test_a_relationship_pattern_is_accepted_exactly_when_the_schema_joins_its_ends(
    start: str, end: str, rel: str | None, hops: int, direction: str, form: str
) -> None:
    label = f":{rel}" if rel else ""
    left, right = ("<-", "-") if direction == "<-" else ("-", "->") if direction == "->" else ("-", "-")
    if form == "hops":
        pattern = f"(a:{start}){left}[{label}*{hops}]{right}(b:{end})"
    elif form == "quantified":
        pattern = f"(a:{start}){left}[{label}]{right}{{{hops}}}(b:{end})"
    else:
        pattern = f"(a:{start})((x){left}[{label}]{right}(y)){{{hops}}}(b:{end})"
    report = GUARD.check(f"MATCH {pattern} RETURN a, b", read_only=True)
    expected = _joined(start, end, {rel} if rel else None, hops, direction)
    assert report.valid == expected, (pattern, report.codes)
    assert report.valid or report.codes == ["relationship_direction"]
