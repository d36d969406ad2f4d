#!/usr/bin/env python3
"""Summarize a buildx --progress=rawjson capture: one line per vertex with its messages.

Each vertex: first-seen order, name, and the sequence of snapshots as compact tokens:
  A = announced (no started), S = started (no completed), C = completed, c = completed+cached,
  E = completed with error. Then the distinct `started` count, statuses count and log lines.
Non-JSON lines (e.g. buildx's final ERROR line) are printed as they are.
"""
import json, sys, base64

def stream(text):
    dec = json.JSONDecoder()
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        if text[i] != '{':
            j = text.find('\n', i)
            j = n if j < 0 else j
            yield ('text', text[i:j])
            i = j
            continue
        obj, i = dec.raw_decode(text, i)
        yield ('json', obj)

def main(path, shape_only=False):
    text = open(path).read()
    order, info = [], {}
    nobj = 0
    for kind, obj in stream(text):
        if kind == 'text':
            print('TEXT:', obj)
            continue
        nobj += 1
        for v in obj.get('vertexes') or []:
            d = v['digest']
            if d not in info:
                order.append(d)
                info[d] = {'name': v.get('name'), 'seq': [], 'starts': set(), 'statuses': set(), 'logs': 0, 'err': None}
            it = info[d]
            if v.get('error'):
                tok = 'E'; it['err'] = v['error']
            elif v.get('completed'):
                tok = 'c' if v.get('cached') else 'C'
            elif v.get('started'):
                tok = 'S' + ('c' if v.get('cached') else '')
            else:
                tok = 'A'
            it['seq'].append(tok)
            if v.get('started'):
                it['starts'].add(v['started'])
        for s in obj.get('statuses') or []:
            if s.get('vertex') in info:
                info[s['vertex']]['statuses'].add(s['id'])
        for l in obj.get('logs') or []:
            if l.get('vertex') in info:
                info[l['vertex']]['logs'] += base64.b64decode(l.get('data') or '').count(b'\n')
    print(f'# {path}: {nobj} JSON objects, {len(order)} vertices')
    for i, d in enumerate(order, 1):
        it = info[d]
        name = it['name'] or ''
        if shape_only:
            import re
            name = re.sub(r'sha256:[0-9a-f]{64}', 'sha256:…', name)
        line = f"{i:2} {' '.join(it['seq']):<28} starts={len(it['starts'])} st={len(it['statuses']):<2} logs={it['logs']:<2} {name[:90]}"
        if it['err']:
            line += f"\n      error: {it['err'][:200]}"
        print(line)

if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if a != '--shape']
    for p in args:
        main(p, '--shape' in sys.argv)
