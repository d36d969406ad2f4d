#!/usr/bin/env python3
"""Decode the moby.buildkit.trace aux messages of an Engine API /build?version=2 body (JSON lines)
into readable vertex/status/log lines, with a minimal protobuf reader (no dependencies)."""
import base64, json, sys, datetime

def fields(buf):
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 2:
            n, i = varint(buf, i); v = buf[i:i + n]; i += n
        elif wt == 1:
            v = buf[i:i + 8]; i += 8
        elif wt == 5:
            v = buf[i:i + 4]; i += 4
        else:
            raise ValueError(wt)
        yield num, v

def varint(b, i):
    r = s = 0
    while True:
        c = b[i]; i += 1
        r |= (c & 0x7f) << s; s += 7
        if c < 0x80:
            return r, i

def ts(b):
    d = dict(fields(b))
    t = datetime.datetime.fromtimestamp(d.get(1, 0), datetime.timezone.utc)
    return t.strftime('%H:%M:%S') + '.%09d' % d.get(2, 0)

for line in open(sys.argv[1], 'rb'):
    line = line.strip()
    if not line:
        continue
    m = json.loads(line)
    if m.get('id') != 'moby.buildkit.trace':
        print('MSG', json.dumps(m)[:300]); continue
    for num, v in fields(base64.b64decode(m['aux'])):
        f = {}
        for k, x in fields(v):
            f.setdefault(k, []).append(x)
        if num == 1:
            print(f"VERTEX {f[3][0].decode()!r} started={ts(f[5][0]) if 5 in f else '-'} completed={ts(f[6][0]) if 6 in f else '-'}"
                  f" cached={bool(f.get(4,[0])[0])}" + (f" error={f[7][0].decode()!r}" if 7 in f else ''))
        elif num == 2:
            print(f"  STATUS {f[1][0].decode()!r} current={f.get(4,[0])[0]} total={f.get(5,[0])[0]}")
        elif num == 3:
            print(f"  LOG {f.get(4,[b''])[0].decode(errors='replace')!r}")
