#!/usr/bin/env python3
# Storage of schema version 3 against versions 1/2 on the same rows: makes OLD.db, a copy of
# NEW.db (written by this buildprof) in the version-2 tables, then prints both file sizes and
# times the same reads on each (a full scan of `steps`, the last 90 days joined to builds),
# alternating.   python3 benches/storage_compare.py NEW.db OLD.db
import sqlite3,re,os,time,sys
src=open('collector/src/store/schema.rs').read()
def block(name):
    m=re.search(r'const %s: &str = r#"(.*?)"#;'%name, src, re.S); return m.group(1)
new, old = sys.argv[1], sys.argv[2]
if not os.path.exists(old):
    c=sqlite3.connect(old+'.tmp')
    c.executescript(block('V1')); c.executescript(block('V2'))
    c.execute("attach ? as n",(new,))
    for t in ["builds","steps","labels","step_inputs","cache_operations","cache_layers","sources","build_inputs","build_args","context_nodes"]:
        cols=[r[1] for r in c.execute(f"pragma main.table_info({t})")]
        cs=", ".join(cols)
        c.execute(f"insert into main.{t} ({cs}) select {cs} from n.{t}")
    c.commit(); c.execute("detach n"); c.execute("pragma user_version=2"); c.execute("analyze"); c.commit(); c.close()
    os.rename(old+'.tmp', old)
print("v2 size", os.path.getsize(old)/1e6, "v3 size", os.path.getsize(new)/1e6)
for db in [old,new,old,new]:
    c=sqlite3.connect(db)
    t=time.perf_counter()
    n=0
    for r in c.execute("select s.build_id, s.seq, s.digest, s.name, s.kind, s.instruction, s.stage, s.outcome, s.duration_ns, s.started_at, s.pull_ns from steps s"): n+=1
    a=time.perf_counter()-t
    t=time.perf_counter()
    q="select b.rowid, s.seq, s.digest, s.name, s.outcome, s.duration_ns from builds b join steps s on s.build_id=b.id where b.started_at >= (select max(started_at) from builds) - 90*86400*1000000000"
    m=sum(1 for _ in c.execute(q))
    print(db, f"scan {n} rows {a:.2f}s; 90d join {m} rows {time.perf_counter()-t:.2f}s")
