"""The compiled SCIM gate against the reference gate (the project's RFC checks + scim2-models).

Every payload goes through the front of the pipeline (``inspect_document``, the resolver, the
deterministic generator) once; the generated resource then goes through both gates, which must
agree on the verdict, the HTTP status, the ``scimType``, the ``attribute`` and the detail.

Payloads: ``hypothesis`` builds valid Users (core, enterprise and the acme extension) and Groups
from the compiled schema and mutates them (wrong types, non-canonical values and case variants,
attribute-name and URN case variants, unknown keys, nesting, sizes above the attribute limit,
blank strings, lone surrogates, nulls, empty lists, several primaries, dateTime / URI / base64
look-alikes), derandomized so CI sees the same examples; and every JSON / JSON Lines payload
corpus in ``tests/`` and ``examples/`` (each object with a ``schemas`` member, at any depth).
Run with ``-s`` to see the counts.
"""

from __future__ import annotations

import base64
import copy
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scim_processor.errors import ScimError
from scim_processor.resources import bundled_dir
from scim_processor.scim import AttributeDefinition, AttributeType, Mutability, SchemaDefinition
from scim_processor.stages.generate import DeterministicGenerator
from scim_processor.stages.read import inspect_document, read_paths
from scim_processor.stages.retrieve import FileRetriever
from scim_processor.stages.validate import ScimValidator

ROOT = Path(__file__).resolve().parents[2]
COMPILED = FileRetriever(bundled_dir("schemas")).compiled()
LIMIT = 200  # a small max_attribute_bytes, so generated strings cross it
VALIDATOR = ScimValidator(LIMIT)
GENERATOR = DeterministicGenerator()
USER, GROUP = COMPILED.contexts["User"], COMPILED.contexts["Group"]

Outcome = tuple[Any, ...]


def outcomes(payload: Any) -> tuple[str, Outcome, Outcome]:
    """Where ``payload`` ended (``front`` or ``gate``) and the compiled and reference gates' outcomes."""
    try:
        inspect_document(payload, 32)
        context = COMPILED.resolve(payload)
        resource = GENERATOR.generate(payload, context).resource
    except ScimError as error:
        front = (error.status, error.scim_type)
        return "front", front, front
    results: list[Outcome] = []
    for gate in (VALIDATOR.validate, VALIDATOR.validate_reference):
        try:
            gate(copy.deepcopy(resource), context)
            results.append(("accepted",))
        except ScimError as error:
            results.append((error.status, error.scim_type, error.attribute, error.detail))
        except Exception as error:  # noqa: BLE001  (a crash is an outcome to compare, not a test error)
            results.append(("crash", type(error).__name__, str(error)))
    return "gate", results[0], results[1]


# ---- valid resources from the compiled schema -------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
URIS = st.sampled_from(["https://example.com/photos/1.jpg", "/Users/2819c223", "urn:example:x", "mailto:a@example.com"])
DATE_TIMES = st.datetimes(min_value=datetime(1, 1, 1)).map(lambda d: d.isoformat(timespec="seconds")) | st.from_regex(
    r"\A[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])?\Z"
)


def value_of(attribute: AttributeDefinition) -> st.SearchStrategy[Any]:
    """A valid value of ``attribute`` (a list for a multi-valued one)."""
    single = _single(attribute)
    if not attribute.multi_valued:
        return single
    return st.lists(single, min_size=1, max_size=3).map(_one_primary)


def _one_primary(items: list[Any]) -> list[Any]:
    seen = False
    for item in items:
        if isinstance(item, dict) and item.get("primary") is True:
            item["primary"] = not seen and True
            seen = True
    return items


def _single(attribute: AttributeDefinition) -> st.SearchStrategy[Any]:
    kind = attribute.type
    if kind == AttributeType.COMPLEX:
        subs = [s for s in attribute.sub_attributes if s.mutability != Mutability.READ_ONLY]
        required = {s.name: value_of(s) for s in subs if s.required}
        optional = {s.name: value_of(s) for s in subs if not s.required}
        return st.fixed_dictionaries(required, optional=optional).filter(bool)
    if attribute.canonical_values:
        return st.sampled_from(attribute.canonical_values)
    if kind == AttributeType.BOOLEAN:
        return st.booleans()
    if kind == AttributeType.INTEGER:
        return st.integers(-(2**63), 2**63 - 1)
    if kind == AttributeType.DECIMAL:
        return st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**63), 2**63 - 1)
    if kind == AttributeType.DATE_TIME:
        return DATE_TIMES
    if kind == AttributeType.BINARY:
        return st.binary(max_size=12).map(lambda b: base64.b64encode(b).decode())
    if kind == AttributeType.REFERENCE and set(attribute.reference_types) & {"external", "uri"}:
        return URIS
    if attribute.required:
        return TEXT.filter(lambda s: s.strip())
    return TEXT


def attributes_of(schema: SchemaDefinition) -> st.SearchStrategy[dict[str, Any]]:
    """A valid object of ``schema``'s attributes (readOnly ones left out, as a client sends it)."""
    writable = [a for a in schema.attributes if a.mutability != Mutability.READ_ONLY]
    return st.fixed_dictionaries(
        {a.name: value_of(a) for a in writable if a.required}, optional={a.name: value_of(a) for a in writable if not a.required}
    )


def resource_of(context: Any) -> st.SearchStrategy[dict[str, Any]]:
    """A valid resource of ``context``'s type, with any subset of its extensions."""
    common = {"id": TEXT.filter(lambda s: s.strip()), "externalId": TEXT}
    extensions = {ext.id: attributes_of(ext) for ext in context.extensions}

    def assemble(parts: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
        core, ids, chosen = parts
        return {"schemas": [context.core.id, *chosen], **ids, **core, **chosen}

    return st.tuples(
        attributes_of(context.core), st.fixed_dictionaries({}, optional=common), st.fixed_dictionaries({}, optional=extensions)
    ).map(assemble)


RESOURCES = resource_of(USER) | resource_of(GROUP)

# ---- mutations --------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.sampled_from(["", " ", "\t", "\u00a0", "yes", "True", "WORK", "Work", "work ", "\ud800", "a\udc00b"]),
    st.booleans(), st.integers(), st.sampled_from([2**63, -(2**63) - 1, 2**64, 0, -1, 0.5, -0.0]), st.floats(), TEXT,
)  # fmt: skip
WEIRD = SCALARS | st.one_of(
    st.just([]), st.just({}), st.lists(st.none() | st.integers() | TEXT, max_size=2), st.dictionaries(TEXT, st.integers() | TEXT, max_size=2)
)
DATE_LIKE = st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{0,3})?(Z|[+-][0-9]{2}:[0-9]{2}|z)?\Z")
URI_LIKE = st.from_regex(r"\A([a-zA-Z][a-zA-Z+.-]{0,5}:|/)?[a-z0-9 :/%.\[\]@-]{0,12}\Z")
BASE64_LIKE = st.from_regex(r"\A[A-Za-z0-9+/=_-]{0,9}\Z")
LOOK_ALIKES = st.one_of(
    DATE_LIKE, URI_LIKE, BASE64_LIKE,
    st.integers(1, 3 * LIMIT).map(lambda n: "é" * n),
    st.integers(LIMIT - 2, LIMIT + 2).map(lambda n: "a" * n),
)
FORMATTED = {"externalId", "id"}
COMMON = {name: AttributeDefinition(name=name) for name in ("id", "externalId")}


def attribute_at(document: dict[str, Any], path: tuple[Any, ...]) -> AttributeDefinition | None:
    """The attribute definition of the value at ``path`` (schema-spelled names only), or None."""
    context = COMPILED.contexts["Group" if GROUP.core.id in document.get("schemas", ()) else "User"]
    names = [part for part in path if isinstance(part, str)]
    if names and names[0] in COMMON and len(names) == 1:
        return COMMON[names[0]]
    schema = next((ext for ext in context.extensions if names and ext.id == names[0]), None)
    if schema is not None:
        names = names[1:]
    attribute = (schema or context.core).attribute(names[0]) if names else None
    for name in names[1:]:
        attribute = attribute.sub_attribute(name) if attribute is not None else None
    return attribute


def _formats(attribute: AttributeDefinition) -> st.SearchStrategy[Any] | None:
    """Values close to what ``attribute``'s type allows, on both sides of the line; None for a plain string."""
    kind, types = attribute.type, set(attribute.reference_types)
    near: list[st.SearchStrategy[Any]] = []
    if kind == AttributeType.REFERENCE and (not types or types & {"external", "uri"}):
        near += [URIS, st.sampled_from(["", " ", "a b", "http://", "http://[::1", "x:", "é:x", "//h"]), URI_LIKE]
    if kind == AttributeType.DATE_TIME:
        near += [DATE_TIMES, DATE_LIKE, st.sampled_from(["2024-01-02T03:04:05+00:60", "2024-02-30T00:00:00Z", "2024-01-02T03:04:05", "0000-01-01T00:00:00Z"])]
    if kind == AttributeType.BINARY:
        near += [BASE64_LIKE]
    if kind in (AttributeType.DECIMAL, AttributeType.INTEGER, AttributeType.BOOLEAN):
        near += [SCALARS]
    if attribute.canonical_values:
        canonical = st.sampled_from(attribute.canonical_values)
        near += [canonical.map(str.upper), canonical.map(lambda v: f" {v}"), canonical]
    if attribute.required:
        near += [st.sampled_from(["", " ", "\u3000", "\n\t", "x", " x "])]
    # one of the kinds, each as likely (st.one_of would weigh every branch of SCALARS as much as a kind)
    return st.sampled_from([*near, SCALARS]).flatmap(lambda values: values) if near else None


UNKNOWN_KEYS = st.sampled_from(["bogus", "$ref", "Value", "PRIMARY", "urn:example:unknown:1.0:X", "display name", "0"])


def paths(document: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside ``document`` (keys and list positions)."""
    items = document.items() if isinstance(document, dict) else enumerate(document) if isinstance(document, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from paths(value, (*prefix, key))


def parent(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        document = document[key]
    return document


def mutate(document: dict[str, Any], data: st.DataObject) -> None:  # noqa: C901
    """One mutation of ``document``, in place, chosen by ``data``."""
    every = [path for path in paths(document) if path[0] != "schemas"]  # `schemas` has a mutation of its own
    # Leaf mutations get most of the weight: they are what reaches the gates (a structural one is
    # mostly the generator's to reject, and both gates share the generator).
    kind = data.draw(st.sampled_from(["scalar"] * 6 + ["format"] * 6 + ["look-alike"] * 2 + ["value case"] * 2 + [
        "replace", "unknown key", "key case", "primaries", "wrap", "nest", "delete", "schemas", "empty list", "readOnly"]))  # fmt: skip
    if kind == "scalar":
        every = [p for p in every if not isinstance(parent(document, p)[p[-1]], (dict, list))] or every
    if kind == "format":  # a value near what its attribute's type allows, where the gates' rules are finest
        typed = [(p, a) for p in every if (a := attribute_at(document, p)) is not None and (a.name in FORMATTED or _formats(a) is not None)]
        if typed:
            path, attribute = data.draw(st.sampled_from(typed))
            near = _formats(attribute)
            parent(document, path)[path[-1]] = data.draw(LOOK_ALIKES if near is None else near)
            return
        kind = "look-alike"
    if kind in ("scalar", "replace", "look-alike", "value case", "wrap", "nest", "delete", "empty list") and every:
        path = data.draw(st.sampled_from(every))
        holder, key = parent(document, path), path[-1]
        value = holder[key]
        if kind == "scalar":
            holder[key] = data.draw(SCALARS)
        elif kind == "replace":
            holder[key] = copy.deepcopy(data.draw(WEIRD))
        elif kind == "look-alike":
            holder[key] = data.draw(LOOK_ALIKES)
        elif kind == "value case" and isinstance(value, str):
            holder[key] = data.draw(st.sampled_from([str.upper, str.lower, str.title, str.swapcase]))(value)
        elif kind == "wrap":
            holder[key] = data.draw(st.sampled_from([[value], {"value": value}, [[value]], {"value": [value]}]))
        elif kind == "nest":
            for _ in range(data.draw(st.integers(1, 34))):
                value = [value]
            holder[key] = value
        elif kind == "empty list":
            holder[key] = []
        elif kind == "delete":
            del holder[key]
        return
    dicts = [document] + [v for p in every if isinstance(v := parent(document, p)[p[-1]], dict)]
    target = data.draw(st.sampled_from(dicts))
    if kind == "unknown key":
        target[data.draw(UNKNOWN_KEYS | TEXT)] = copy.deepcopy(data.draw(WEIRD))
    elif kind == "key case" and target:
        key = data.draw(st.sampled_from(sorted(target)))
        target[data.draw(st.sampled_from([str.upper, str.lower, str.swapcase]))(key)] = target.pop(key)
    elif kind == "primaries":
        for items in [v for v in target.values() if isinstance(v, list)]:
            for item in items:
                if isinstance(item, dict):
                    item["primary"] = data.draw(st.sampled_from([True, "true", 1, None]))
    elif kind == "schemas":
        schemas = document.get("schemas")
        choice = data.draw(st.sampled_from(["drop", "unknown", "upper", "remove", "not a list"]))
        if choice == "remove" or not isinstance(schemas, list) or not schemas:
            document.pop("schemas", None)
        elif choice == "drop":
            schemas.pop(data.draw(st.integers(0, len(schemas) - 1)))
        elif choice == "unknown":
            schemas.append("urn:example:unknown:1.0:X")
        elif choice == "upper":
            index = data.draw(st.integers(0, len(schemas) - 1))
            schemas[index] = str(schemas[index]).upper()
        else:
            document["schemas"] = " ".join(map(str, schemas))
    elif kind == "readOnly":
        target.update(data.draw(st.sampled_from([{"groups": [{"value": "g1", "display": "x"}]}, {"meta": {"version": 3}},
                                                  {"display": 5}, {"displayName": ["x"]}])))  # fmt: skip


# ---- the tests ----------------------------------------------------------------------------------

STATS: Counter[str] = Counter()


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])  # fmt: skip
@given(RESOURCES, st.data())
def _gates_agree_on_generated(resource: dict[str, Any], data: st.DataObject) -> None:
    document = copy.deepcopy(resource)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        mutate(document, data)
    where, compiled, reference = outcomes(document)
    STATS["examples"] += 1
    STATS[f"{where}: {'accepted' if compiled == ('accepted',) else 'rejected'}"] += 1
    assert compiled == reference, f"{document!r}\ncompiled:  {compiled}\nreference: {reference}"


def test_the_compiled_gate_agrees_with_scim2_models_on_generated_payloads() -> None:
    STATS.clear()
    _gates_agree_on_generated()
    print(f"\ngenerated payloads: {dict(STATS)}")
    # Not a degenerate run: many payloads reach the gates, and the gates both accept and reject.
    assert STATS["gate: accepted"] >= 60 and STATS["gate: rejected"] >= 60, STATS


def leaves() -> list[tuple[str, str | None, tuple[AttributeDefinition, ...]]]:
    """Every simple attribute and sub-attribute a client may write: (resource type, extension URN or None, its definitions from the top)."""
    found = []
    for name, context in COMPILED.contexts.items():
        for schema in (context.core, *context.extensions):
            urn = None if schema is context.core else schema.id
            for top in schema.attributes:
                if top.mutability == Mutability.READ_ONLY:
                    continue
                subs = [s for s in top.sub_attributes if s.mutability != Mutability.READ_ONLY]
                found += [(name, urn, (top, sub)) for sub in subs] if top.type == AttributeType.COMPLEX else [(name, urn, (top,))]
    return found


LEAVES = leaves()


def placed(resource_type: str, urn: str | None, chain: tuple[AttributeDefinition, ...], value: Any, data: st.DataObject) -> dict[str, Any]:
    """A valid minimal resource of ``resource_type`` with ``value`` as one value of the attribute ``chain`` names."""
    context = COMPILED.contexts[resource_type]
    document = {"schemas": [context.core.id, *(e.id for e in context.extensions)], "id": "i1", "userName": "u", "displayName": "d"}
    if resource_type == "Group":
        del document["userName"]
    *outer, leaf = chain
    inner: Any = [value] if leaf.multi_valued else value
    if outer:
        top = outer[0]
        siblings = {s.name: data.draw(value_of(s)) for s in top.sub_attributes if s.required and s is not leaf}
        inner = {**siblings, leaf.name: inner}
        inner = [inner] if top.multi_valued else inner
    holder = document.setdefault(urn, {}) if urn else document
    holder[chain[0].name] = inner
    return document


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: ".".join(a.name for a in leaf[2]) if isinstance(leaf, tuple) else str(leaf))
def test_the_compiled_gate_agrees_with_scim2_models_attribute_by_attribute(leaf: tuple[str, str | None, tuple[AttributeDefinition, ...]]) -> None:
    # Every simple (sub-)attribute a client writes, on its own, with values on both sides of what its type allows.
    resource_type, urn, chain = leaf
    near = _formats(chain[-1])
    seen: Counter[str] = Counter()

    @settings(max_examples=20, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(LOOK_ALIKES, SCALARS) if near is None else near, st.data())
    def agree(value: Any, data: st.DataObject) -> None:
        where, compiled, reference = outcomes(placed(resource_type, urn, chain, value, data))
        seen[f"{where}: {'accepted' if compiled == ('accepted',) else 'rejected'}"] += 1
        assert compiled == reference, f"{chain[-1].name} = {value!r}\ncompiled:  {compiled}\nreference: {reference}"

    agree()
    stored = all(a.not_stored_reason() is None for a in chain)  # password: dropped by the generator, never rejected
    assert seen["gate: accepted"] and (seen["gate: rejected"] or not stored), seen


def corpus() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object with a ``schemas`` member in every JSON / JSON Lines file of tests/ and examples/."""
    files = sorted(p for folder in ("tests", "examples") for p in (ROOT / folder).rglob("*") if p.suffix in (".json", ".jsonl", ".ndjson"))
    for payload in read_paths(files):
        stack = [payload.document]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                if "schemas" in value:
                    yield payload.source, value
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)


def test_the_compiled_gate_agrees_with_scim2_models_on_every_corpus() -> None:
    counts: Counter[str] = Counter()
    disagreements = []
    for source, document in corpus():
        where, compiled, reference = outcomes(document)
        counts[f"{where}: {'accepted' if compiled == ('accepted',) else 'rejected'}"] += 1
        if compiled != reference:
            disagreements.append((source, compiled, reference))
    print(f"\ncorpus payloads: {dict(counts)}")
    assert not disagreements
    assert counts["gate: accepted"] >= 20 and counts["gate: rejected"] >= 3, counts


@pytest.mark.parametrize("resource_type", ["User", "Group"])
def test_valid_generated_resources_are_accepted_by_both(resource_type: str) -> None:
    # The strategies above build what the schema allows: unmutated, both gates accept it.
    context = COMPILED.contexts[resource_type]

    @settings(max_examples=50, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.filter_too_much])
    @given(resource_of(context))
    def accepted(resource: dict[str, Any]) -> None:
        where, compiled, reference = outcomes(resource)
        assert (where, compiled, reference) == ("gate", ("accepted",), ("accepted",))

    accepted()
