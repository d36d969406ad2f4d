#!/usr/bin/env python3
# The baseline "what a user writes instead": a straightforward rawjson ingest with Python's
# json and sqlite3 modules (stream the objects, insert vertices, statuses and logs, count
# cached vertices). Used by benches/compare.py to put buildprof's ingest speed in context.
# Usage: python3 benches/python_ingest.py TRACE DB
import base64, json, sqlite3, sys


def objects(text):
    dec = json.JSONDecoder()
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        if text[i] != "{":
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        obj, i = dec.raw_decode(text, i)
        yield obj


def main(trace, db):
    conn = sqlite3.connect(db)
    conn.executescript(
        """
        CREATE TABLE IF NOT EXISTS vertex (digest TEXT PRIMARY KEY, name TEXT, started TEXT, completed TEXT, cached INTEGER, error TEXT);
        CREATE TABLE IF NOT EXISTS status (vertex TEXT, id TEXT, current INTEGER, total INTEGER, completed TEXT, PRIMARY KEY (vertex, id));
        CREATE TABLE IF NOT EXISTS log (vertex TEXT, bytes INTEGER, lines INTEGER);
        """
    )
    with open(trace, encoding="utf-8") as f:
        text = f.read()
    cur = conn.cursor()
    for o in objects(text):
        for v in o.get("vertexes", ()):
            cur.execute(
                "INSERT OR REPLACE INTO vertex VALUES (?, ?, ?, ?, ?, ?)",
                (v["digest"], v.get("name"), v.get("started"), v.get("completed"), int(v.get("cached", False)), v.get("error")),
            )
        for s in o.get("statuses", ()):
            cur.execute(
                "INSERT OR REPLACE INTO status VALUES (?, ?, ?, ?, ?)",
                (s.get("vertex"), s["id"], s.get("current", 0), s.get("total", 0), s.get("completed")),
            )
        for l in o.get("logs", ()):
            data = base64.b64decode(l.get("data") or "")
            cur.execute("INSERT INTO log VALUES (?, ?, ?)", (l.get("vertex"), len(data), data.count(b"\n")))
    conn.commit()
    cached = conn.execute("SELECT count(*) FROM vertex WHERE cached = 1").fetchone()[0]
    total = conn.execute("SELECT count(*) FROM vertex").fetchone()[0]
    print(f"{total} vertices, {cached} cached")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
