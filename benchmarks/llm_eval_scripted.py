"""`eval map` and `eval ask` against the scripted OpenAI-compatible server: plumbing and metric sanity.

Run:  .venv/bin/python benchmarks/llm_eval_scripted.py

No model runs here (no endpoint exists on these machines). The script starts the test suite's
scripted server on 127.0.0.1 and the embedded graph (fresh home, the public seed graph loaded
with `process`), and drives the real ChatOpenAI client through the eval code twice per task:
with an oracle script answering the labels (every metric must be 1.0: plumbing), and with a
noisy script that makes known, deterministic mistakes first (non-schema attributes, invented
values, DETACH DELETE, literals, wrong refusals), so the metrics and the correction loop can be
seen to move. Figures describe the pipeline, not any model.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scim_processor.llm.asker import Asker
from scim_processor.llm.config import LlmSettings, chat_model
from scim_processor.llm.core import Settings, open_processor
from scim_processor.llm.evaluate import evaluate_ask, evaluate_map, load_dataset
from scim_processor.llm.mapper import Mapper
from scim_processor.llm.shape_mapper import ShapeMapper  # noqa: E402
from tests.integration.llm.scripted_server import ScriptedServer, ask_oracle, map_oracle

DATA = ROOT / "tests" / "data"


def main() -> None:
    map_set, ask_set = DATA / "llm_eval_map.jsonl", DATA / "llm_eval_ask.jsonl"
    with ScriptedServer() as server, tempfile.TemporaryDirectory() as home, open_processor(Settings(home=Path(home))) as processor:
        seed = [json.loads(line) for line in (DATA / "llm_seed_graph.jsonl").read_text().splitlines() if line.strip()]
        assert all(r.accepted for r in processor.process(seed))
        model: Any = chat_model(LlmSettings.model_validate(
            {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "unused", "SCIM_PROCESSOR_LLM_MODEL": "scripted"}
        ))  # fmt: skip
        for noisy in (False, True):
            label = "noisy script" if noisy else "oracle script"
            server.reset()
            server.fallback = map_oracle(map_set, noisy)
            metrics = evaluate_map(processor, Mapper(processor, model, 3), load_dataset(map_set), ShapeMapper(processor, lambda: model))
            print(f"eval map, {label}:", json.dumps(metrics))
            server.reset()
            server.fallback = ask_oracle(ask_set, noisy)
            metrics = evaluate_ask(processor, Asker(processor, model, 3), load_dataset(ask_set))
            print(f"eval ask, {label}:", json.dumps(metrics))


if __name__ == "__main__":
    main()
