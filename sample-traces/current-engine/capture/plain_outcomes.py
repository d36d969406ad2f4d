#!/usr/bin/env python3
"""Per step of a --progress=plain capture: verdicts (CACHED/DONE/ERROR/CANCELED, in order),
number of header blocks, log lines, status lines. Keyed by step name, so #N numbering is ignored."""
import re, sys
from collections import OrderedDict

def outcomes(path):
    names, res = {}, OrderedDict()
    cur = None
    for line in open(path, errors='replace'):
        line = line.rstrip('\n')
        m = re.match(r'^#(\d+) (.*)$', line)
        if not m:
            continue
        n, rest = m.group(1), m.group(2)
        if n not in names:
            names[n] = re.sub(r'sha256:[0-9a-f]{64}', 'sha256:…', rest)
            res[names[n]] = {'blocks': 0, 'verdicts': [], 'logs': 0, 'status': 0}
        r = res[names[n]]
        if re.sub(r'sha256:[0-9a-f]{64}', 'sha256:…', rest) == names[n]:
            r['blocks'] += 1
        elif rest == 'CACHED' or rest == 'CANCELED' or rest.startswith('DONE ') or rest.startswith('ERROR'):
            r['verdicts'].append(rest.split(' ')[0].rstrip(':'))
        elif re.match(r'^\d+\.\d+ ', rest):
            r['logs'] += 1
        elif rest != '...':
            r['status'] += 1
    return res

if __name__ == '__main__':
    if len(sys.argv) == 3:
        a, b = outcomes(sys.argv[1]), outcomes(sys.argv[2])
        same = True
        for k in set(a) | set(b):
            x, y = a.get(k), b.get(k)
            if x != y:
                same = False
                print(f'  differs {k[:70]}: {x} vs {y}')
        print(f'{sys.argv[1]} vs {sys.argv[2]}: identical per-step outcomes: {same}')
    else:
        for k, v in outcomes(sys.argv[1]).items():
            print(f"{' '.join(v['verdicts']):<22} blocks={v['blocks']} status={v['status']:<2} logs={v['logs']:<2} {k[:90]}")
