"""Fixtures of the LLM integration tests: the scripted model server, a ChatOpenAI pointed at it, a seeded graph."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_openai import ChatOpenAI

from scim_processor import ScimProcessor
from scim_processor.llm.config import LlmSettings, chat_model

from .scripted_server import ScriptedServer

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="session")
def model_server() -> Iterator[ScriptedServer]:
    """The scripted OpenAI-compatible server for the session (script reset per test)."""
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def scripted(model_server: ScriptedServer) -> ScriptedServer:
    """The server with an empty script."""
    model_server.reset()
    return model_server


@pytest.fixture
def chat(scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ChatOpenAI:
    """The real ChatOpenAI client on the scripted server, built as the CLI builds it."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # a proxy in the environment must not intercept 127.0.0.1
    settings = LlmSettings.model_validate(
        {"OPENAI_BASE_URL": scripted.base_url, "OPENAI_API_KEY": "sk-test-not-a-secret", "SCIM_PROCESSOR_LLM_MODEL": "scripted-model"}
    )
    model = chat_model(settings)
    assert isinstance(model, ChatOpenAI)
    return model


def seed(processor: ScimProcessor) -> None:
    """Loads the public seed graph (tests/data/llm_seed_graph.jsonl) through ``process``."""
    payloads = [json.loads(line) for line in (DATA / "llm_seed_graph.jsonl").read_text().splitlines() if line.strip()]
    results = processor.process(payloads)
    assert all(r.accepted for r in results), [r.error for r in results if not r.accepted]


@pytest.fixture
def seeded(processor: ScimProcessor) -> ScimProcessor:
    """A processor on a wiped graph with the bundled schemas and the seed graph."""
    seed(processor)
    return processor
