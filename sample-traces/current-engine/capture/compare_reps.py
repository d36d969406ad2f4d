#!/usr/bin/env python3
"""Compare the event shapes of two rawjson captures of identical builds.

Per vertex (keyed by name with digests masked): the token sequence (see summarize_rawjson.py),
number of distinct `started`, number of distinct status ids, log line count, error.
Reports what differs, plus message count and first-seen vertex order.
"""
import sys, re, base64
sys.path.insert(0, __file__.rsplit('/', 1)[0])
from summarize_rawjson import stream

def shape(path):
    info, order, nobj, text_lines = {}, [], 0, []
    by_digest = {}
    for kind, obj in stream(open(path).read()):
        if kind == 'text':
            text_lines.append(obj); continue
        nobj += 1
        for v in obj.get('vertexes') or []:
            d = v['digest']
            if d not in by_digest:
                key = re.sub(r'sha256:[0-9a-f]{64}', 'sha256:…', v.get('name') or '')
                by_digest[d] = key
                order.append(key)
                info[key] = {'seq': [], 'starts': set(), 'st': set(), 'logs': 0, 'err': None}
            it = info[by_digest[d]]
            if v.get('error'): tok = 'E'; it['err'] = v['error']
            elif v.get('completed'): tok = 'c' if v.get('cached') else 'C'
            elif v.get('started'): tok = 'S' + ('c' if v.get('cached') else '')
            else: tok = 'A'
            it['seq'].append(tok)
            if v.get('started'): it['starts'].add(v['started'])
        for s in obj.get('statuses') or []:
            if s.get('vertex') in by_digest:
                info[by_digest[s['vertex']]]['st'].add(re.sub(r'[0-9a-f]{64}', '…', s['id']))
        for l in obj.get('logs') or []:
            if l.get('vertex') in by_digest:
                info[by_digest[l['vertex']]]['logs'] += base64.b64decode(l.get('data') or '').count(b'\n')
    return nobj, order, info, text_lines

def outcome(it):
    # what a profiler needs: did it end cached, did it run (log lines / uncached completion), intervals
    toks = it['seq']
    return (('cached' if 'c' in toks else '') + ('+ran' if 'C' in toks else '') or 'none',
            len(it['starts']), len(it['st']), it['logs'], it['err'])

a, b = sys.argv[1], sys.argv[2]
na, oa, ia, ta = shape(a)
nb, ob, ib, tb = shape(b)
print(f'{a.rsplit("/",1)[-1]}  vs  {b.rsplit("/",1)[-1]}')
print(f'  messages: {na} vs {nb}; first-seen order same: {oa == ob}; trailing text same: {ta == tb}')
same_outcome = True
for k in sorted(set(ia) | set(ib)):
    x, y = ia.get(k), ib.get(k)
    if x is None or y is None:
        print(f'  only in one: {k[:70]}'); same_outcome = False; continue
    if outcome(x) != outcome(y):
        same_outcome = False
        print(f'  OUTCOME differs {k[:60]}: {outcome(x)} vs {outcome(y)}')
    elif x['seq'] != y['seq']:
        print(f'  snapshots differ {k[:60]}: {" ".join(x["seq"])} | {" ".join(y["seq"])}')
print(f'  per-vertex outcomes (cached/ran, intervals, statuses, log lines, error) identical: {same_outcome}')
