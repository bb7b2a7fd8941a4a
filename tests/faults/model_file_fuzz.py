"""A mutation fuzz of model files, run in its own process under a memory cap (see ``run``).

Each case is a saved model file damaged one way: bytes of the file flipped,
bytes of the manifest's text flipped (the archive rebuilt around it, so that
zip's CRC-32 does not catch it), the file truncated, two members' contents
swapped under their names, members reordered, dropped or duplicated. Loading it must either be refused with
``ModelFileError`` or give a model that predicts, transforms and scores
exactly as the original: nothing else, and within the memory cap.
"""

import io
import json
import random
import resource
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np

CAP_BYTES = 1 << 30  # what loading one file may add to the address space


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info, archive.read(info)) for info in archive.infolist()]


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def mutations(good, n_cases, seed):
    """``(kind, bytes)`` for ``n_cases`` seeded mutations of the file bytes ``good``."""
    rng = random.Random(seed)
    members = [(info.filename, data) for info, data in _members(good)]
    assert members[0][0] == "manifest.json"  # first, as save writes it
    arrays = [i for i, (name, _) in enumerate(members) if name.endswith(".npy")]
    kinds = ("flip", "flip", "manifest", "manifest", "truncate", "swap", "reorder", "drop", "duplicate")
    for case in range(n_cases):
        kind = kinds[case % len(kinds)]
        if kind == "flip":
            damaged = bytearray(good)
            for _ in range(rng.randint(1, 4)):
                damaged[rng.randrange(len(good))] ^= rng.randint(1, 255)
            yield kind, bytes(damaged)
        elif kind == "manifest":
            (name, text), *rest = members
            text = bytearray(text)
            for _ in range(rng.randint(1, 2)):
                text[rng.randrange(len(text))] ^= rng.randint(1, 255)
            yield kind, _zip([(name, bytes(text))] + rest)
        elif kind == "truncate":
            yield kind, good[:rng.randrange(len(good))]
        elif kind == "swap":  # two members' bytes exchanged under their names; the manifest unchanged
            i, j = rng.sample(arrays, 2)
            swapped = list(members)
            swapped[i], swapped[j] = (members[i][0], members[j][1]), (members[j][0], members[i][1])
            yield kind, _zip(swapped)
        elif kind == "reorder":
            shuffled = list(members)
            rng.shuffle(shuffled)
            yield kind, _zip(shuffled)
        elif kind == "drop":
            kept = list(members)
            del kept[rng.randrange(len(kept))]
            yield kind, _zip(kept)
        else:  # a member twice: once as it is, once with another member's bytes
            i, j = rng.sample(range(len(members)), 2)
            yield kind, _zip(members + [(members[i][0], members[j][1])])


def run(path, X_test, n_cases, seed):
    """Fuzz the model file at ``path``; the counts and the worst time and memory to refuse, as a dict.

    Called in a fresh process: the address space is capped at what it uses
    now plus :data:`CAP_BYTES` (``RLIMIT_AS``) before the first case.
    """
    from kmeanskit._io.persistence import ModelFileError, load

    path = Path(path)
    good = path.read_bytes()
    original = load(path)
    expected = (original.predict(X_test), original.transform(X_test), original.score(X_test))
    with open("/proc/self/statm") as statm:
        in_use = int(statm.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (in_use + CAP_BYTES, resource.RLIM_INFINITY))
    counts = {"refused": 0, "harmless": 0, "other": 0}
    worst = {"seconds": 0.0, "kind": None, "bytes": 0}
    others = []
    damaged_path = path.with_name("damaged.kmk")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    for kind, data in mutations(good, n_cases, seed):
        damaged_path.write_bytes(data)
        tracemalloc.reset_peak()
        start = time.perf_counter()
        try:
            model = load(damaged_path)
        except ModelFileError:
            counts["refused"] += 1
            seconds = time.perf_counter() - start
            if seconds > worst["seconds"]:
                worst.update(seconds=seconds, kind=kind)
            worst["bytes"] = max(worst["bytes"], tracemalloc.get_traced_memory()[1])
            continue
        except BaseException as exc:  # noqa: BLE001 - anything else is what the fuzz looks for
            counts["other"] += 1
            others.append(f"{kind}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        got = (model.predict(X_test), model.transform(X_test), model.score(X_test))
        same = all(np.array_equal(a, b) and np.asarray(a).dtype == np.asarray(b).dtype
                   for a, b in zip(got, expected, strict=True))
        counts["harmless" if same else "other"] += 1
        if not same:
            others.append(f"{kind}: loads and predicts differently")
    tracemalloc.stop()
    rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) * 1024  # KiB on Linux
    return {"cases": n_cases, **counts, "worst_refusal_seconds": worst["seconds"], "worst_refusal_kind": worst["kind"],
            "worst_refusal_bytes": worst["bytes"], "peak_rss_growth_bytes": rss_growth, "others": others[:10]}


if __name__ == "__main__":
    path, X_path, n_cases, seed = sys.argv[1:]
    print(json.dumps(run(path, np.load(X_path), int(n_cases), int(seed))))
