"""Examples retrieved into the ask prompt (issue 16 §8): the store's accepted pairs and the bundled set."""

from __future__ import annotations

import json
from pathlib import Path

from scim_processor.guard import CypherGuard
from scim_processor.llm.asker import identity_schema
from scim_processor.llm.store import AskExample, ExampleStore, bundled_ask_examples, nearest_examples, render_examples, stored_ask_examples
from scim_processor.mapping.compiled import CompiledSchema

SCHEMA_TERMS = ["User", "Group", "Email", "PhoneNumber", "displayName", "department", "title", "MEMBER_OF", "REPORTS_TO", "HAS_PHONE_NUMBER"]
EXAMPLES = [
    AskExample("How many groups are there?", "MATCH (g:Group) RETURN count(g) AS groups"),
    AskExample("Who is Tom Baker's manager?", "MATCH (u:User {displayName: $name})-[:REPORTS_TO]->(m:User) RETURN m.displayName AS manager"),
    AskExample("What is Sam's mobile phone number?", "MATCH (u:User)-[:HAS_PHONE_NUMBER]->(p:PhoneNumber) RETURN p.value AS phone"),
    AskExample("List the people in the Sales department.", "MATCH (u:User) WHERE u.department = $d RETURN u.displayName AS name"),
    AskExample("What is Tom's salary?", None, refusal="the identity graph has no salary"),
]


def test_the_nearest_examples_share_words_and_schema_terms() -> None:
    nearest = nearest_examples("Who reports to the manager of the Research department?", EXAMPLES, SCHEMA_TERMS)
    assert [e.question for e in nearest] == ["Who is Tom Baker's manager?", "List the people in the Sales department."]
    # "phone" is a schema term (PhoneNumber, HAS_PHONE_NUMBER) that the phone example's query names too
    assert [e.question for e in nearest_examples("Which phone numbers does Ana have?", EXAMPLES, SCHEMA_TERMS)][0] == EXAMPLES[2].question
    assert len(nearest_examples("manager group department phone salary", EXAMPLES, SCHEMA_TERMS)) == 3
    assert nearest_examples("zzz", EXAMPLES, SCHEMA_TERMS) == []


def test_stored_examples_come_first_and_render_as_answers(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path)
    answer = {"cypher": "MATCH (g:Group) RETURN g.displayName AS name", "parameters": {}, "refusal": None}
    store.add("ask", [{"role": "system", "content": "..."}, {"role": "user", "content": "Question: Name every group."}], answer)
    store.add("ask", [{"role": "system", "content": "..."}, {"role": "user", "content": "not a question"}], answer)  # skipped
    [stored] = stored_ask_examples(store)
    assert stored == AskExample("Name every group.", answer["cypher"], {})
    nearest = nearest_examples("How many groups exist?", [stored, *EXAMPLES], SCHEMA_TERMS)
    assert nearest[0] == stored  # a tie with the bundled "How many groups" goes to the organisation's own
    text = render_examples(nearest[:1])
    assert text == 'Question: Name every group.\nAnswer: {"cypher": "MATCH (g:Group) RETURN g.displayName AS name", "parameters": {}, "refusal": null}'
    assert render_examples([]) == "(none)"


def test_a_damaged_store_gives_what_it_can(tmp_path: Path) -> None:
    store = ExampleStore(tmp_path)
    store.add("ask", [{"role": "user", "content": "Question: How many users?"}], {"cypher": "MATCH (u:User) RETURN count(u) AS n", "parameters": {}})
    with store.path("ask").open("a") as file:
        file.write("{broken\n")
    assert [e.question for e in stored_ask_examples(store)] == ["How many users?"]


def test_every_bundled_example_passes_the_guard_on_the_derived_schema(compiled: CompiledSchema) -> None:
    guard = CypherGuard(identity_schema(compiled.graph_schema))
    examples = bundled_ask_examples()
    assert len(examples) >= 10 and any(e.refusal for e in examples)
    for example in examples:
        if example.cypher is not None:
            report = guard.check(example.cypher, read_only=True, parameters=example.parameters)
            assert report.valid, (example.question, report.codes)
            assert "'" not in example.cypher and '"' not in example.cypher  # values travel in parameters
        json.loads(example.answer())
