"""The LLM step (issue 8): ``map`` (non-SCIM records → validated SCIM) and ``ask`` (questions → guarded read-only Cypher).

Modules: :mod:`.records` (readers), :mod:`.retrieval` (narrowed grounding context from the schema
graph), :mod:`.json_schema` (the structured-output schema), :mod:`.prompts`, :mod:`.chat`
(structured calls), :mod:`.gates` (JSON parse → SCIM gate → groundedness), :mod:`.mapper`,
:mod:`.asker` (with the LangChain runnable :class:`~.asker.AskChain`), :mod:`.store` and
:mod:`.finetune` (the dataset), :mod:`.evaluate`, :mod:`.config` (endpoint settings). Every call
into the core pipeline goes through :mod:`.core`.
"""
