"""``ask`` through the real ChatOpenAI client against the scripted server, on the seeded embedded graph."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableLambda
from langchain_openai import ChatOpenAI

from scim_processor import ScimProcessor
from scim_processor.llm.asker import AskChain, Asker

from .scripted_server import ApiRefusal, ScriptedServer

COUNT = "MATCH (n) RETURN count(n) AS n"


def test_detach_delete_is_never_executed(seeded: ScimProcessor, chat: ChatOpenAI, scripted: ScriptedServer) -> None:
    before = seeded.run_cypher(COUNT)
    scripted.reset(*([{"cypher": "MATCH (u:User) DETACH DELETE u", "parameters": {}, "refusal": None}] * 3))
    result = Asker(seeded, chat).ask("Remove all users")
    assert result.status == "failed" and result.attempts == 3 and result.guard_rejections == 3
    assert {e.code for e in result.errors} == {"write_in_read_only"}
    assert "write_in_read_only" in scripted.requests[1]["messages"][-1]["content"]  # fed back
    assert seeded.run_cypher(COUNT) == before
    assert result.to_json()["rows"] == [] and result.to_json()["cypher"] is None


def test_guard_error_fed_back_then_answer(seeded: ScimProcessor, chat: ChatOpenAI, scripted: ScriptedServer) -> None:
    wrong: dict[str, Any] = {"cypher": "MATCH (u:User) WHERE u.dept = $d RETURN u.userName AS userName", "parameters": {"d": "Finance"}, "refusal": None}
    literal: dict[str, Any] = {"cypher": "MATCH (u:User) WHERE u.department = 'Finance' RETURN u.userName AS userName", "parameters": {}, "refusal": None}
    right: dict[str, Any] = {"cypher": "MATCH (u:User) WHERE u.department = $d RETURN u.userName AS userName ORDER BY userName", "parameters": {"d": "Finance"}, "refusal": None}
    scripted.reset(wrong, literal, right)
    result = Asker(seeded, chat).ask("Who works in Finance?")
    assert result.status == "answered" and result.attempts == 3
    assert [e.code for e in result.errors] == ["unknown_property", "literal_in_query"]
    assert result.rows == [{"userName": "frances.allen@example.org"}, {"userName": "john.backus@example.org"}]
    request = scripted.requests[0]
    assert request["response_format"]["type"] == "json_schema" and request["response_format"]["json_schema"]["name"] == "cypher_answer"
    system = request["messages"][0]["content"]
    assert "(:User)-[:REPORTS_TO]->(:User)" in system and '"Finance"' in system  # schema + sample values
    assert "ScimAttribute" not in system
    assert set(result.to_json()) == {"question", "cypher", "parameters", "rows", "refusal", "attempts"}


def test_refusal_gives_no_query(seeded: ScimProcessor, chat: ChatOpenAI, scripted: ScriptedServer) -> None:
    scripted.reset({"cypher": None, "parameters": {}, "refusal": "The graph holds no salaries."})
    result = Asker(seeded, chat).ask("What is Ada's salary?")
    assert (result.status, result.cypher, result.refusal, result.attempts) == ("refused", None, "The graph holds no salaries.", 1)


def test_ask_chain_composes_like_graph_cypher_qa_chain(seeded: ScimProcessor, chat: ChatOpenAI, scripted: ScriptedServer) -> None:
    scripted.reset({"cypher": "MATCH (u:User) RETURN count(u) AS users", "parameters": {}, "refusal": None})
    chain = AskChain.from_llm(chat, seeded) | RunnableLambda(lambda out: (out["query"], out["result"]))
    assert chain.invoke({"query": "How many users?"}) == ("How many users?", [{"users": 10}])


def test_endpoint_refusal_field_is_a_refusal(seeded: ScimProcessor, chat: ChatOpenAI, scripted: ScriptedServer) -> None:
    scripted.reset(ApiRefusal("I cannot share passwords."))
    result = Asker(seeded, chat).ask("What is Alan's password?")
    assert (result.status, result.refusal, result.cypher) == ("refused", "I cannot share passwords.", None)
