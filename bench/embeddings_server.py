"""A minimal OpenAI-compatible `/v1/embeddings` server for one of bench/sprawl_encoders.py's encoders, to measure the
HTTP path as an operator runs it (EMBEDDINGS_URL + EMBEDDINGS_MODEL), through the real commands.

    python bench/embeddings_server.py --encoder mpnet [--port 8765] [--threads 2]
    EMBEDDINGS_URL=http://127.0.0.1:8765 EMBEDDINGS_MODEL=sentence-transformers/all-mpnet-base-v2 \\
        .venv/bin/python bench/sprawl_quality.py --reporting

Run it in the venv that has the encoder's packages (see bench/sprawl_encoders.py); the client needs none of them.
Vectors are kept in memory by text, so the catalogue's phrases, embedded again for each fresh database the quality
bench creates, cost once per server. Not for production: one request at a time, no authentication.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sprawl_encoders import ENCODERS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", default="mpnet", choices=list(ENCODERS))
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", default="/tmp/sprawl-encoders", help="where the encoder unpacks its model")
    args = parser.parse_args()
    encoder = ENCODERS[args.encoder][1](Path(args.cache) / args.encoder, args.threads)
    memo: dict[str, list[float]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            if self.path != "/v1/embeddings":
                self.send_error(404)
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            missing = list(dict.fromkeys(t for t in texts if t not in memo))
            if missing:
                for text, vector in zip(missing, encoder.embed(missing), strict=True):
                    memo[text] = [float(v) for v in vector]
            payload = json.dumps({"object": "list", "model": body.get("model", args.encoder), "data": [
                {"object": "embedding", "index": n, "embedding": memo[t]} for n, t in enumerate(texts)]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *values: object) -> None:  # noqa: A002 (http.server's name)
            pass

    print(f"serving {encoder.name} on http://127.0.0.1:{args.port}/v1/embeddings", flush=True)
    HTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
