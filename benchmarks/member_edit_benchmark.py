"""Adding and removing one member of a group with 100,000 members, on the embedded server.

Run:  .venv/bin/python benchmarks/member_edit_benchmark.py [N]     (N members, default 100000)

Seeds N users and one group holding them all (plain UNWIND writes, to keep the set-up short),
then times, through the resource store (validation, guard, one write transaction):
- PATCH add one member / remove one member: the edge write alone (what changes in the graph),
  and the whole ``ResourceStore.patch`` call, which also reads the group back with all its members;
- the member count after each, to show that only that one edge changed;
- for comparison, reading the group back (``get``) alone;
- ``GET /Groups/<id>`` over HTTP (the WSGI application called in process, no socket: routing,
  auth, the storage, the read query, scim2-models and JSON) with ``excludedAttributes=members``
  (the read query leaves the member pattern out, RFC 7644 §3.9) against the full GET, and the
  member PATCH with ``excludedAttributes=members`` (its read-back skips the member ids too).
Figures are printed, never asserted.
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scim_processor import ScimProcessor, Settings  # noqa: E402
from scim_processor.config import GraphSettings  # noqa: E402
from scim_processor.graph import EmbeddedServer, GraphConnection  # noqa: E402
from scim_processor.graph.embedded import READER_USERNAME  # noqa: E402
from scim_processor.http.app import create_app  # noqa: E402
from scim_processor.http.auth import TOKEN_VARIABLE, load_api_token  # noqa: E402
from scim_processor.operations.patch import member_edits, operations_of  # noqa: E402
from scim_processor.operations.store import ResourceStore  # noqa: E402

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def seed(processor: ScimProcessor, n: int) -> str:
    connection = processor.connection
    store = ResourceStore(processor)
    group = store.create("Group", {"schemas": [GROUP], "displayName": "Everyone"})["id"]
    step = 10_000
    for start in range(0, n, step):
        ids = [f"m{i:07d}" for i in range(start, min(n, start + step))]
        connection.write([(
            "UNWIND $ids AS id CREATE (u:User {id: id, userName: id, userName_key: id, meta_version: 'seed'})",
            {"ids": ids},
        ), (
            "MATCH (g:Group {id: $g}) UNWIND $ids AS id MATCH (u:User {id: id}) CREATE (u)-[:MEMBER_OF]->(g)",
            {"ids": ids, "g": group},
        )])  # fmt: skip
    return group


def members(processor: ScimProcessor, group: str) -> int:
    return int(processor.connection.read("MATCH (:User)-[r:MEMBER_OF]->(:Group {id: $g}) RETURN count(r) AS c", {"g": group})[0]["c"])


TOKEN = "benchmark-token-0123456789"  # noqa: S105 - a local benchmark's token


def http(app: Callable[..., Any], method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request to the WSGI application, in process: (status, decoded body)."""
    path, _, query = path.partition("?")
    data = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "localhost", "SERVER_PORT": "80",
        "HTTP_HOST": "localhost", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data), "CONTENT_LENGTH": str(len(data)),
        "SCRIPT_NAME": "", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}", "CONTENT_TYPE": "application/scim+json",
    }  # fmt: skip
    status: list[int] = []
    raw = b"".join(app(environ, lambda code, headers, exc_info=None: status.append(int(code.split()[0]))))
    return status[0], json.loads(raw) if raw else None


def timed(runs: int, call: Callable[[], object]) -> list[float]:
    """Seconds of ``runs`` calls of ``call``."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return times


def main(n: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="scim-member-bench-"))
    server = EmbeddedServer(home)
    info = server.start()
    try:
        graph = GraphSettings(
            uri=info.uri, username="root", password=server.password(), database=info.database,
            read_username=READER_USERNAME, read_password=server.reader_password(),
        )  # fmt: skip
        settings = Settings(home=home, graph=graph)
        with GraphConnection.open(settings) as connection:
            processor = ScimProcessor(connection, settings)
            processor.load_schemas()
            t0 = time.perf_counter()
            group = seed(processor, n)
            print(f"seeded {n:,} members in {time.perf_counter() - t0:.1f} s; members: {members(processor, group):,}")
            store = ResourceStore(processor)
            newcomer = store.create("User", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "newcomer"})["id"]
            add = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": newcomer, "type": "User"}]}]}
            remove = {"schemas": [PATCH], "Operations": [{"op": "remove", "path": f'members[value eq "{newcomer}"]'}]}
            mapping = store.compiled().mappings["Group"]
            edge_add, edge_remove, whole_add, whole_remove, reads = [], [], [], [], []
            for _ in range(5):
                for body, edge_times, whole_times, want in ((add, edge_add, whole_add, n + 1), (remove, edge_remove, whole_remove, n)):
                    head = store._existing("Group", group, None)
                    edits = member_edits(operations_of(body), mapping, store.dialect)
                    assert edits is not None  # noqa: S101 - a benchmark's own sanity check
                    t = time.perf_counter()
                    store._edit_references("Group", group, edits, head["version"])
                    edge_times.append(time.perf_counter() - t)
                    if members(processor, group) != want:
                        raise SystemExit(f"member count {members(processor, group)} != {want}")
                    # undo, then time the whole store call (which also reads the group back)
                    other = remove if body is add else add
                    store._edit_references("Group", group, member_edits(operations_of(other), mapping, store.dialect), head["version"])  # type: ignore[arg-type]
                    t = time.perf_counter()
                    returned = store.patch("Group", group, body)
                    whole_times.append(time.perf_counter() - t)
                    if len(returned.get("members", [])) != want:
                        raise SystemExit("the returned group has the wrong member count")
                t = time.perf_counter()
                store.get("Group", group)
                reads.append(time.perf_counter() - t)
            ms = lambda xs: f"median {statistics.median(xs) * 1000:.0f} ms (min {min(xs) * 1000:.0f}, max {max(xs) * 1000:.0f})"  # noqa: E731
            print(f"group of {n:,} members, 5 runs each:")
            print(f"  add one member, edge write:            {ms(edge_add)}")
            print(f"  remove one member, edge write:         {ms(edge_remove)}")
            print(f"  PATCH add, whole store call:           {ms(whole_add)}")
            print(f"  PATCH remove, whole store call:        {ms(whole_remove)}")
            print(f"  GET the group (all members read back): {ms(reads)}")
            app = create_app(processor, load_api_token(home, {TOKEN_VARIABLE: TOKEN}))
            url = f"/scim/v2/Groups/{group}"
            status, body = http(app, "GET", url + "?excludedAttributes=members")
            if status != 200 or "members" in body or body["displayName"] != "Everyone":
                raise SystemExit(f"GET ?excludedAttributes=members answered {status} {body}")
            slim = timed(10, lambda: http(app, "GET", url + "?excludedAttributes=members"))
            slim_store = timed(10, lambda: store.get("Group", group, excluded=["members"]))
            whole = timed(1, lambda: http(app, "GET", url))  # about 10-20 s: scim2-models validates every member
            patched = []
            for body in (add, remove) * 3:
                t = time.perf_counter()
                status, answer = http(app, "PATCH", url + "?excludedAttributes=members", body)
                patched.append(time.perf_counter() - t)
                if status != 200 or "members" in answer:
                    raise SystemExit(f"PATCH ?excludedAttributes=members answered {status}")
            if members(processor, group) != n:
                raise SystemExit("the PATCHes over HTTP did not leave the member count as it was")
            print("over HTTP (WSGI in process, no socket):")
            print(f"  GET ?excludedAttributes=members:       {ms(slim)}  (10 runs)")
            print(f"  GET, the whole group:                  {ms(whole)}  (1 run)")
            print(f"  PATCH member add/remove ?excludedAttributes=members: {ms(patched)}  (6 runs)")
            print(f"  store.get(excluded=['members']) alone: {ms(slim_store)}  (10 runs)")
    finally:
        server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
