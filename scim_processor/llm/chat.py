"""Calling a chat model for structured output, and what a call cost.

:func:`structured` returns a runnable that maps a list of messages to
``{"raw": AIMessage | None, "parsed": dict | None, "parsing_error": Exception | None}``: for a
model that implements it (``ChatOpenAI`` and the other provider classes), LangChain's
``with_structured_output(response_format, method="json_schema", include_raw=True)``, which sends
OpenAI's ``response_format: {"type": "json_schema", "json_schema": {...}}``; for a model that does
not (LangChain's fake chat models), ``model | parser`` with the same output shape, so the gates
and the correction loop are the same either way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable, RunnableLambda

from .core import ScimProcessorError


class ModelError(ScimProcessorError):
    """The model endpoint could not be reached or failed (an infrastructure error: exit 2)."""


def parse_message(message: BaseMessage) -> dict[str, Any]:
    """``model | parser`` step: an AI message → ``{"raw", "parsed", "parsing_error"}`` (parsed = the JSON value)."""
    text = message.content if isinstance(message.content, str) else json.dumps(message.content)
    try:
        return {"raw": message, "parsed": json.loads(text), "parsing_error": None}
    except json.JSONDecodeError as error:
        return {"raw": message, "parsed": None, "parsing_error": error}


def structured(model: BaseChatModel, response_format: dict[str, Any], *, strict: bool) -> Runnable[Any, dict[str, Any]]:
    """The structured-output runnable of ``model`` for ``response_format`` (``{"name", "schema", "strict"}``)."""
    try:
        runnable: Runnable[Any, Any] = model.with_structured_output(
            response_format, method="json_schema", strict=strict, include_raw=True
        )
        return runnable
    except NotImplementedError:  # fake chat models: no structured output, same parse as the gates expect
        return model | RunnableLambda(parse_message)


def model_name(model: BaseChatModel) -> str:
    """The model's name as configured (``model_name`` / ``model``), else its class name."""
    for attribute in ("model_name", "model"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


@dataclass
class Usage:
    """Tokens reported by the endpoint (``usage_metadata``), summed over calls; 0 where none were reported."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    def add(self, raw: AIMessage | None) -> None:
        """Adds one call's usage."""
        self.calls += 1
        usage = getattr(raw, "usage_metadata", None) or {}
        self.prompt_tokens += int(usage.get("input_tokens", 0) or 0)
        self.completion_tokens += int(usage.get("output_tokens", 0) or 0)


def call(runnable: Runnable[Any, dict[str, Any]], messages: list[BaseMessage], usage: Usage) -> dict[str, Any]:
    """Invokes the structured runnable once.

    Raises:
        ModelError: the endpoint failed (connection, HTTP error, timeout), as one line.
    """
    try:
        output = runnable.invoke(messages)
    except Exception as error:  # the client's own errors (openai.APIError, httpx, ...): infrastructure
        if type(error).__name__ in ("ValidationError", "OutputParserException", "JSONDecodeError"):
            output = {"raw": None, "parsed": None, "parsing_error": error}
        else:
            raise ModelError(f"the model endpoint failed: {type(error).__name__}: {str(error)[:300]}") from error
    raw = output.get("raw")
    usage.add(raw if isinstance(raw, AIMessage) else None)
    return output


def api_refusal(output: dict[str, Any]) -> str | None:
    """The refusal the endpoint reported in the message's ``refusal`` field (OpenAI structured outputs), or None."""
    raw = output.get("raw")
    refusal = raw.additional_kwargs.get("refusal") if isinstance(raw, AIMessage) else None
    return str(refusal) if refusal else None


def raw_text(output: dict[str, Any]) -> str | None:
    """The text the model answered (for feeding it back in the correction loop), or None."""
    raw = output.get("raw")
    if isinstance(raw, AIMessage):
        return raw.content if isinstance(raw.content, str) else json.dumps(raw.content)
    return None
