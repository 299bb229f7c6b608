"""The LLM step (issue 8): ``map`` (non-SCIM records → validated SCIM) and ``ask`` (questions → guarded read-only Cypher).

Modules: :mod:`.records` (readers), :mod:`.retrieval` (narrowed grounding context from the schema
graph), :mod:`.json_schema` (the structured-output schema), :mod:`.prompts`, :mod:`.chat`
(structured calls), :mod:`.gates` (JSON parse → SCIM gate → groundedness), :mod:`.mapper`,
:mod:`.asker` (with the LangChain runnable :class:`~.asker.AskChain`), :mod:`.store` and
:mod:`.finetune` (the dataset), :mod:`.evaluate`, :mod:`.config` (endpoint settings). Every call
into the core pipeline goes through :mod:`.core`.

Structured files map once per source shape (issue 16): :mod:`.shapes` (shapes, fingerprints,
streaming readers), :mod:`.transforms` (the closed transform library), :mod:`.mapping_file`
(mapping files, target paths, checks, building resources), :mod:`.proposer` (graph matching first,
one model request for the rest), :mod:`.mapping_store` (the ``SourceShape`` subgraph) and
:mod:`.shape_mapper` (plan, then apply through ``process``'s pipeline).
"""
