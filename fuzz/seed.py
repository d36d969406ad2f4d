#!/usr/bin/env python3
"""Seeds the fuzz corpora beyond plain copies of sample-traces/ (called by seed.sh).

- dockerbuild_members: the real .dockerbuild exports unpacked into `%%file <path>\\n<data>`
  members (common/members.rs), the same with short blob digests (easier for mutations to
  cross-link), and solvestatus.v0 records made from rawjson traces;
- every target: small hand-made inputs covering each feature of its format, because libFuzzer
  mutates a 200-byte input far faster than a 50 kB trace.

Usage: seed.py SAMPLE_TRACES_DIR CORPUS_DIR
"""

import base64
import glob
import json
import os
import re
import struct
import sys
import tarfile

SRC, OUT = sys.argv[1], sys.argv[2]


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    for t in (target, "ingest") if target != "dockerbuild_members" else (target,):
        os.makedirs(os.path.join(OUT, t), exist_ok=True)
        with open(os.path.join(OUT, t, name), "wb") as f:
            f.write(data)


def framed(members):
    # Smallest first: libFuzzer cuts inputs at -max_len, and that should drop big blobs, not
    # index.json.
    out = b""
    for path, data in sorted(members, key=lambda m: len(m[1])):
        out += b"%%file " + path.encode() + b"\n" + data
    return out


# ---- protobuf (just enough of moby.buildkit.v1.StatusResponse to write seeds) ----

def varint(n):
    n &= (1 << 64) - 1
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, value):
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def ts(seconds, nanos=0):
    return field(1, seconds) + field(2, nanos)


def vertex(digest, name, started=None, completed=None, cached=False, error="", inputs=()):
    b = field(1, digest)
    for i in inputs:
        b += field(2, i)
    b += field(3, name)
    if cached:
        b += field(4, 1)
    if started is not None:
        b += field(5, ts(*started))
    if completed is not None:
        b += field(6, ts(*completed))
    if error:
        b += field(7, error)
    return b


def status(id_, vertex_, current=0, total=0, timestamp=None, started=None, completed=None):
    b = field(1, id_) + field(2, vertex_)
    if current:
        b += field(4, current)
    if total:
        b += field(5, total)
    if timestamp is not None:
        b += field(6, ts(*timestamp))
    if started is not None:
        b += field(7, ts(*started))
    if completed is not None:
        b += field(8, ts(*completed))
    return b


def log(vertex_, msg, stream=1, timestamp=(1700000001, 0)):
    return field(1, vertex_) + field(2, ts(*timestamp)) + field(3, stream) + field(4, msg)


def warning(vertex_, short):
    return field(1, vertex_) + field(2, 1) + field(3, short)


def response(vertexes=(), statuses=(), logs=(), warnings=()):
    b = b""
    for v in vertexes:
        b += field(1, v)
    for s in statuses:
        b += field(2, s)
    for l in logs:
        b += field(3, l)
    for w in warnings:
        b += field(4, w)
    return b


T0 = 1700000000
MESSAGES = [
    response(vertexes=[vertex("a", "[internal] load build definition from Dockerfile", (T0, 0))]),
    response(vertexes=[vertex("a", "[internal] load build definition from Dockerfile", (T0, 0), (T0, 5000))]),
    response(vertexes=[vertex("b", "[1/2] FROM docker.io/library/alpine", (T0, 1), (T0, 2), cached=True, inputs=["a"])]),
    response(statuses=[status("sha256:l1", "b", 10, 100, (T0 + 1, 0), (T0 + 1, 0)),
                       status("extracting sha256:l1", "b", 0, 0, (T0 + 1, 5), (T0 + 1, 5), (T0 + 2, 0))]),
    response(vertexes=[vertex("c", "[2/2] RUN make", (T0 + 2, 0), inputs=["b"])],
             logs=[log("c", b"compiling\n"), log("c", b"partial", 2)]),
    response(vertexes=[vertex("c", "[2/2] RUN make", (T0 + 2, 0), (T0 + 3, 0), inputs=["b"])],
             warnings=[warning("c", b"FromAsCasing")]),
    response(vertexes=[vertex("d", "exporting to image", (T0 + 3, 0), (T0 + 4, 0))],
             statuses=[status("writing layer sha256:w1", "d", timestamp=(T0 + 3, 0))]),
]
FAILED = response(vertexes=[vertex("c", "[2/2] RUN make", (T0 + 2, 0), (T0 + 3, 0), error="process \"make\" did not complete successfully: exit code: 2")])


# ---- dockerbuild_members from the real exports and from rawjson traces ----

def unpack_exports():
    for path in sorted(glob.glob(os.path.join(SRC, "external", "*.dockerbuild"))):
        base = os.path.basename(path)[: -len(".dockerbuild")]
        with tarfile.open(path) as t:
            members = [(m.name, t.extractfile(m).read()) for m in t.getmembers() if m.isfile()]
        put("dockerbuild_members", base + ".members", framed(members))
        hexes = sorted({m[0].split("/")[-1] for m in members if m[0].startswith("blobs/sha256/")})
        short = {h: format(i, "x") for i, h in enumerate(hexes)}

        def shorten(data):
            return re.sub(rb"[0-9a-f]{64}", lambda m: short.get(m.group().decode(), m.group().decode()).encode(), data)

        renamed = []
        for name, data in members:
            if name.startswith("blobs/sha256/"):
                name = "blobs/sha256/" + short[name.split("/")[-1]]
            # Only JSON documents refer to blobs; protobuf lengths must not change.
            renamed.append((name, shorten(data) if data.lstrip().startswith(b"{") else data))
        put("dockerbuild_members", base + ".short.members", framed(renamed))


def record(ref="r1", error=None, proto_times=False, counters=True):
    r = {"Ref": ref, "Frontend": "dockerfile.v0",
         "FrontendAttrs": {"target": "app", "filename": "Dockerfile", "context": "."},
         "Exporters": [{"Type": "image"}]}
    if proto_times:
        r["CreatedAt"] = {"seconds": T0, "nanos": 5}
        r["CompletedAt"] = {"seconds": T0 + 4}
    else:
        r["CreatedAt"] = "2023-11-14T22:13:20.5Z"
        r["CompletedAt"] = "2023-11-14T22:13:24Z"
    if counters:
        r.update({"numTotalSteps": 4, "numCachedSteps": 1, "numCompletedSteps": 4})
    if error:
        r["error"] = error
    return json.dumps(r).encode()


def export(records, nested=True):
    """Members of an export: records is a list of (ref, record JSON, layer media type, layer)."""
    members = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')]
    entries = []
    for i, (ref, rec, media, layer) in enumerate(records):
        members.append((f"blobs/sha256/c{i}", rec))
        layers = []
        if layer is not None:
            members.append((f"blobs/sha256/l{i}", layer))
            layers = [{"mediaType": media, "digest": f"sha256:l{i}"}]
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.buildkit.historyrecord.v0", "digest": f"sha256:c{i}"},
                    "layers": layers}
        members.append((f"blobs/sha256/m{i}", json.dumps(manifest).encode()))
        entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:m{i}",
                        "annotations": {"vnd.buildkit.history.reference": ref}})
    if nested:
        members.append(("blobs/sha256/i", json.dumps({"schemaVersion": 2, "manifests": entries}).encode()))
        index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:i"}]}
    else:
        index = {"schemaVersion": 2, "manifests": entries}
    members.append(("index.json", json.dumps(index).encode()))
    return framed(members)


STATUS_V0 = "application/vnd.buildkit.status.v0"
SOLVE_V0 = "application/vnd.buildkit.solvestatus.v0"


def frames(messages):
    return b"".join(struct.pack("<I", len(m)) + m for m in messages)


def solvestatus_of(trace):
    text = open(trace, "rb").read().decode("utf-8", "replace")
    objects, decoder, pos = [], json.JSONDecoder(), 0
    while True:
        while pos < len(text) and text[pos] in " \r\n\t":
            pos += 1
        if pos >= len(text) or text[pos] != "{":
            break
        obj, pos = decoder.raw_decode(text, pos)
        objects.append(json.dumps(obj, separators=(",", ":")))
    return ("\n".join(objects) + "\n").encode()


def members_seeds():
    unpack_exports()
    traces = sorted(glob.glob(os.path.join(SRC, "app1-series", "*.rawjson")))[:4]
    traces += sorted(glob.glob(os.path.join(SRC, "busybox-buildx0.13", "*rawjson*")))
    for trace in traces:
        put("dockerbuild_members", os.path.basename(trace) + ".solvestatus.members",
            export([("r1", record(), SOLVE_V0, solvestatus_of(trace))]))
    put("dockerbuild_members", "small-status.members",
        export([("r1", record(), STATUS_V0, frames(MESSAGES))], nested=False))
    put("dockerbuild_members", "small-two-records.members",
        export([("r1", record("r1", proto_times=True), STATUS_V0, frames(MESSAGES[:3])),
                ("r2", record("r2", error={"code": 2, "message": "failed to solve"}, counters=False),
                 STATUS_V0, frames(MESSAGES[:4] + [FAILED]))]))
    put("dockerbuild_members", "small-canceled.members",
        export([("r1", record(error={"code": 1, "message": "context canceled"}), STATUS_V0, frames(MESSAGES[:2]))]))
    small_json = b'{"vertexes":[{"digest":"a","name":"[1/1] RUN x","started":"2023-11-14T22:13:20Z","completed":"2023-11-14T22:13:21Z"}],"logs":[{"vertex":"a","stream":1,"data":"aGkK","timestamp":"2023-11-14T22:13:20.5Z"}],"warnings":[{"vertex":"a","level":1,"short":"d2Fybg==","detail":["eA=="]}]}\n'
    put("dockerbuild_members", "small-solvestatus.members", export([("r1", record(), SOLVE_V0, small_json)]))


# ---- small seeds for the line formats ----

def rawjson_seeds():
    v = lambda **kw: json.dumps({"vertexes": [kw]}, separators=(",", ":"))
    lines = [
        v(digest="sha256:a", name="[internal] load build definition from Dockerfile", started="2023-11-14T22:13:20Z"),
        v(digest="sha256:a", name="[internal] load build definition from Dockerfile", started="2023-11-14T22:13:20Z", completed="2023-11-14T22:13:20.5Z"),
        v(digest="sha256:b", inputs=["sha256:a"], name="[1/2] FROM docker.io/library/alpine", started="2023-11-14T22:13:21Z", completed="2023-11-14T22:13:21Z", cached=True),
        json.dumps({"statuses": [{"id": "sha256:l1", "vertex": "sha256:b", "current": 5, "total": 10, "timestamp": "2023-11-14T22:13:21.1Z", "started": "2023-11-14T22:13:21.1Z", "completed": "2023-11-14T22:13:22Z"}]}),
        v(digest="sha256:c", inputs=["sha256:b"], name="[2/2] RUN make", started="2023-11-14T22:13:22Z", progressGroup={"id": "g", "name": "build"}),
        json.dumps({"logs": [{"vertex": "sha256:c", "stream": 1, "data": "Y29tcGlsaW5nCg==", "timestamp": "2023-11-14T22:13:22.5Z"}]}),
        v(digest="sha256:c", inputs=["sha256:b"], name="[2/2] RUN make", started="2023-11-14T22:13:22Z", completed="2023-11-14T22:13:23Z"),
        json.dumps({"warnings": [{"vertex": "sha256:c", "level": 1, "short": "d2Fybg=="}]}),
        v(digest="sha256:d", name="exporting to image", started="2023-11-14T22:13:23Z", completed="2023-11-14T22:13:24Z"),
    ]
    put("rawjson", "small-success.rawjson", "\n".join(lines) + "\n")
    failed = lines[:5] + [v(digest="sha256:c", name="[2/2] RUN make", started="2023-11-14T22:13:22Z", completed="2023-11-14T22:13:23Z", error="process did not complete successfully: exit code: 2")]
    put("rawjson", "small-failed.rawjson", "\n".join(failed) + "\nERROR: failed to solve: process did not complete successfully: exit code: 2\n")
    indented = "\n".join(json.dumps(json.loads(l), indent=2) for l in lines[:4]) + "\n"
    put("rawjson", "small-indented.rawjson", indented)
    put("rawjson", "small-two-per-line.rawjson", lines[0] + lines[1] + "\n" + lines[2] + " " + lines[3] + "\n")


def plain_seeds():
    log = """#0 building with "default" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 599B done
#1 DONE 0.0s

#2 [internal] load metadata for docker.io/library/alpine:3.19
#2 DONE 0.5s

#3 importing cache manifest from reg/app:cache
#3 inferred cache manifest type: application/vnd.oci.image.index.v1+json done
#3 DONE 0.0s

#4 [1/3] FROM docker.io/library/alpine:3.19@sha256:15d1
#4 sha256:15d1 3.41MB / 3.41MB 0.1s done
#4 extracting sha256:15d1 0.2s done
#4 DONE 0.4s

#5 [2/3] COPY . .
#5 CACHED

#6 [3/3] RUN make
#6 0.656 compiling
#6 1.002 linking
#6 DONE 1.2s

#7 exporting to image
#7 exporting layers 0.1s done
#7 writing image sha256:9f0e done
#7 DONE 0.2s
"""
    put("plain", "small-success.log", log)
    failed = log.split("#6 DONE")[0] + """#6 2.010 make: *** [all] Error 2
#6 ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2
------
 > [3/3] RUN make:
2.010 make: *** [all] Error 2
------
Dockerfile:3
--------------------
   3 | >>> RUN make
--------------------
ERROR: failed to solve: process "/bin/sh -c make" did not complete successfully: exit code: 2
"""
    put("plain", "small-failed.log", failed)
    stamped = "".join(f"2024-01-03T02:30:{i // 10:02d}.{i % 10}675877Z {l}\n" for i, l in enumerate(log.splitlines()))
    put("plain", "small-github.log", "2024-01-03T02:30:00.0000000Z ##[group]Run docker build\n" + stamped + "2024-01-03T02:31:00.0000000Z ##[endgroup]\n")
    gitlab = "\x1b[0Ksection_start:1700000000:build\r\x1b[0K\x1b[36;1mBuild\x1b[0;m\n" + log + "\x1b[0Ksection_end:1700000001:build\r\x1b[0K\n"
    put("plain", "small-gitlab.log", gitlab)
    resumed = """#1 [1/2] RUN a
#1 0.1 x

#2 [2/2] RUN b
#2 0.2 y

#1 [1/2] RUN a
#1 DONE 0.3s

#2 [2/2] RUN b
#2 CANCELED
WARNING: 1 warning found (use docker --debug to expand):
 - FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)
"""
    put("plain", "small-interleaved.log", resumed)
    old = """#1 [internal] load build definition from Dockerfile
#1 sha256:0e0ce2d5a5a4c8a43e52a2b50c7f5d0c3c4fdc3f8a0bb3c6a1b0b4c0e8c7d6f5
#1 transferring dockerfile: 32B done
#1 DONE 0.0s
"""
    put("plain", "small-docker20.log", old)


def moby_seeds():
    line = lambda m: json.dumps({"id": "moby.buildkit.trace", "aux": base64.b64encode(m).decode()})
    ok = [line(m) for m in MESSAGES] + ['{"stream":"Successfully built 9f0e"}', '{"id":"moby.image.id","aux":{"ID":"sha256:9f0e"}}']
    put("moby", "small-success.jsonl", "\r\n".join(ok) + "\r\n")
    bad = [line(m) for m in MESSAGES[:5]] + [line(FAILED), '{"errorDetail":{"code":1,"message":"process did not complete"},"error":"process did not complete"}']
    put("moby", "small-failed.jsonl", "\r\n".join(bad) + "\r\n")
    put("moby", "small-error-only.jsonl", '{"error":"no build stage in current context"}\n')


members_seeds()
rawjson_seeds()
plain_seeds()
moby_seeds()
