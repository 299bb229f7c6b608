"""Settings of the LLM step, read from the environment (and a ``.env`` file) by pydantic-settings.

The endpoint settings are the standard ones of the OpenAI client, so one setting points the
commands at any OpenAI-compatible server (OpenAI, Azure, vLLM, llama.cpp ``llama-server``,
Ollama's ``/v1``); the model name is the project's own.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..config import invalid_settings
from ..errors import UsageError

DEFAULT_MODEL = "gpt-4o-mini"

NO_ENDPOINT = (
    "no model endpoint is configured: set OPENAI_BASE_URL (any OpenAI-compatible server) and/or "
    "OPENAI_API_KEY, and SCIM_PROCESSOR_LLM_MODEL"
)


class LlmSettings(BaseSettings):
    """Where the chat model is.

    Attributes:
        api_key: ``OPENAI_API_KEY`` (never logged; a local server may need none).
        base_url: ``OPENAI_BASE_URL``, e.g. ``http://127.0.0.1:8080/v1``; unset = api.openai.com.
        model: ``SCIM_PROCESSOR_LLM_MODEL``, a model name or a fine-tuned one (``ft:...``).
        timeout: seconds per model call (``SCIM_PROCESSOR_LLM_TIMEOUT``).
        temperature: sampling temperature (``SCIM_PROCESSOR_LLM_TEMPERATURE``), 0 by default.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    base_url: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_BASE_URL"))
    model: str = Field(default=DEFAULT_MODEL, validation_alias=AliasChoices("SCIM_PROCESSOR_LLM_MODEL"))
    timeout: float = Field(default=120.0, gt=0, validation_alias=AliasChoices("SCIM_PROCESSOR_LLM_TIMEOUT"))
    temperature: float = Field(default=0.0, ge=0, le=2, validation_alias=AliasChoices("SCIM_PROCESSOR_LLM_TEMPERATURE"))

    @property
    def configured(self) -> bool:
        """True if an endpoint is named: ``OPENAI_BASE_URL`` or ``OPENAI_API_KEY`` is set."""
        return bool(self.base_url) or (self.api_key is not None and bool(self.api_key.get_secret_value()))


def load_llm_settings() -> LlmSettings:
    """The LLM settings from the environment and ``.env``.

    Raises:
        scim_processor.errors.SettingsError: a value is invalid; one line naming the variable
            (``SCIM_PROCESSOR_LLM_TIMEOUT``, ``OPENAI_BASE_URL``, ...).
    """
    try:
        return LlmSettings()
    except ValidationError as error:
        raise invalid_settings(error, lambda location: str(location[0])) from None


def chat_model(settings: LlmSettings) -> object:
    """The default chat model: ``langchain_openai.ChatOpenAI`` on the configured endpoint.

    Returns:
        A ``ChatOpenAI`` (typed ``object`` here so importing this module does not import the client).

    Raises:
        UsageError: no endpoint is configured (:data:`NO_ENDPOINT`).
    """
    if not settings.configured:
        raise UsageError(NO_ENDPOINT)
    from langchain_openai import ChatOpenAI

    key = settings.api_key or SecretStr("not-needed")  # local servers take any key; the client wants one
    return ChatOpenAI(
        model=settings.model,
        api_key=key,
        base_url=settings.base_url,
        temperature=settings.temperature,
        timeout=settings.timeout,
        max_retries=1,
    )
