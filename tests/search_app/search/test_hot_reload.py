"""The running server switches to newly published generations while a
client keeps querying: no failed request, no response mixing generations."""
import threading
import time
import urllib.parse

from indexer.cli import main
from indexer.index import IndexStore
from tests.servers import get_json, running_server

ARTICLE = "---\nid: reload-probe\ntitle: Probe about the tricuspid valve\n---\n{text}\n"


def test_server_switches_generation_under_load(writable_index, tmp_path):
    probe = tmp_path / "probe.md"
    versions = {}  # generation name -> probe text published in it (None: removed)

    def publish(text):
        if text is None:
            assert main(["remove", "reload-probe", "--index-dir", str(writable_index)]) == 0
        else:
            probe.write_text(ARTICLE.format(text=text))
            assert main(["add", str(probe), "--index-dir", str(writable_index)]) == 0
        versions[IndexStore(writable_index).current_name()] = text

    publish("Version one: the tricuspid valve sits between the right chambers.")
    with running_server(writable_index, HEARTSEARCH_RELOAD_INTERVAL="0.2") as base:
        url = base + "/api/v1/search?" + urllib.parse.urlencode({"q": "tricuspid valve probe", "k": 3})
        responses, failures, stop = [], [], threading.Event()

        def client():
            while not stop.is_set():
                try:
                    responses.append(get_json(url))
                except Exception as err:  # any failure counts
                    failures.append(repr(err))

        threads = [threading.Thread(target=client) for _ in range(2)]
        for t in threads:
            t.start()
        for text in ("Version two: a leaky tricuspid valve lets blood flow backwards.",
                     None,
                     "Version three: tricuspid regurgitation can cause swollen ankles."):
            time.sleep(1.0)
            publish(text)
        time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join()

    assert failures == []
    assert len(responses) > 20
    seen = [r["generation"] for r in responses]
    assert seen[-1] == max(versions)  # ended on the newest generation
    assert len(set(seen)) >= 3  # really switched while serving
    for r in responses:
        expected = versions[r["generation"]]
        probe_hits = [h for h in r["results"] if h["article"]["id"] == "reload-probe"]
        if expected is None:
            assert not probe_hits, r
        else:
            assert probe_hits and probe_hits[0]["text"] == expected, r
