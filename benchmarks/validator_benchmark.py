"""The SCIM gate per payload: the compiled gate against the reference (RFC checks + scim2-models).

Run:  .venv/bin/python benchmarks/validator_benchmark.py [N]   (default N = 2000)

N enterprise users with one email and one phone each (the shape of ``process_benchmark.py``) are
generated once; each gate then checks all of them, best of 5 rounds, single process, no graph.
Prints µs per payload of the reference gate, of the compiled gate, and their ratio; for scale,
also generation (``DeterministicGenerator``), parsing (json against orjson, as the read stage)
and ``inspect_document``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from process_benchmark import users  # noqa: E402

from scim_processor.resources import bundled_dir  # noqa: E402
from scim_processor.stages.generate import DeterministicGenerator  # noqa: E402
from scim_processor.stages.read import inspect_document, loads, parse_bytes  # noqa: E402
from scim_processor.stages.retrieve import FileRetriever  # noqa: E402
from scim_processor.stages.validate import ScimValidator  # noqa: E402

ROUNDS = 5


def per_payload(work: Callable[[], None], n: int) -> float:
    """The best of :data:`ROUNDS` timings of ``work`` (which handles ``n`` payloads), in µs per payload."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best / n * 1e6


def main(n: int) -> None:
    """Times both gates on ``n`` users and prints the figures."""
    compiled = FileRetriever(bundled_dir("schemas")).compiled()
    generator = DeterministicGenerator()
    payloads = list(users(n))
    contexts = [compiled.resolve(payload) for payload in payloads]
    resources = [generator.generate(p, c).resource for p, c in zip(payloads, contexts, strict=True)]
    lines = [json.dumps(payload).encode() for payload in payloads]
    validator = ScimValidator()
    pairs = list(zip(resources, contexts, strict=True))
    for resource, context in pairs:  # both accept every payload (and the caches are warm)
        validator.validate_reference(resource, context)
        validator.validate(resource, context)

    reference = per_payload(lambda: [validator.validate_reference(r, c) for r, c in pairs] and None, n)
    fast = per_payload(lambda: [validator.validate(r, c) for r, c in pairs] and None, n)
    generation = per_payload(lambda: [generator.generate(p, c) for p, c in zip(payloads, contexts, strict=True)] and None, n)
    json_parse = per_payload(lambda: [loads(line.decode()) for line in lines] and None, n)
    orjson_parse = per_payload(lambda: [parse_bytes(line) for line in lines] and None, n)
    inspect = per_payload(lambda: [inspect_document(payload, 32) for payload in payloads] and None, n)
    print(f"{n} enterprise users, one email and one phone each; best of {ROUNDS} rounds")
    print(f"SCIM gate, reference (RFC checks + scim2-models): {reference:8.1f} µs/payload")
    print(f"SCIM gate, compiled:                              {fast:8.1f} µs/payload")
    print(f"ratio reference / compiled:                       {reference / fast:8.1f}x")
    print(f"generation (for scale):                           {generation:8.1f} µs/payload")
    print(f"parse, json / orjson:                             {json_parse:8.1f} / {orjson_parse:.1f} µs/payload")
    print(f"inspect_document (depth, Unicode, numbers):       {inspect:8.1f} µs/payload")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
