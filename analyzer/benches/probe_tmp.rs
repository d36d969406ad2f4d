use std::time::Instant;
use analyzer::load::*;
use analyzer::Scope;
use collector::store::Store;
fn main() {
    let path = std::env::var("BUILDPROF_BENCH_DB").unwrap();
    let store = Store::open(&path).unwrap();
    let conn = store.connection();
    let all = Scope::default();
    if std::env::var("MMAP").is_ok() { conn.execute_batch("PRAGMA mmap_size = 17179869184; PRAGMA cache_size = -262144;").unwrap(); println!("mmap on"); }
    for _ in 0..2 {
    let t = Instant::now();
    let l = Loaded::load(conn, &all, StepSelect { all_kinds: false, identity: false }).unwrap();
    println!("load no identity: {:?} rows {}", t.elapsed(), l.steps.height());
    let t = Instant::now();
    let l = Loaded::load(conn, &all, StepSelect { all_kinds: false, identity: true }).unwrap();
    println!("load identity: {:?} rows {}", t.elapsed(), l.steps.height());
    let t = Instant::now();
    let mut d = analyzer::intern::Interner::default();
    let e = load_edges(conn, &all, &mut d).unwrap();
    println!("edges: {:?} rows {}", t.elapsed(), e.height());
    let t = Instant::now();
    let mut stmt = conn.prepare("SELECT b.rowid, s.seq, s.kind, s.outcome, s.lazy_miss, s.duration_ns, s.pull_ns FROM builds b JOIN steps s ON s.build_id = b.id").unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut n = 0i64;
    while let Some(r) = rows.next().unwrap() { n += r.get::<_, i64>(5).unwrap(); }
    println!("raw scan 7 cols: {:?} {n}", t.elapsed());
    let t = Instant::now();
    let mut stmt = conn.prepare("SELECT s.duration_ns FROM steps s").unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut n = 0i64;
    while let Some(r) = rows.next().unwrap() { n += r.get::<_, i64>(0).unwrap(); }
    println!("raw scan steps 1 col: {:?} {n}", t.elapsed());
    let t = Instant::now();
    let mut stmt = conn.prepare("SELECT s.build_id, s.seq, s.kind, s.outcome, s.lazy_miss, s.duration_ns, s.pull_ns FROM steps s").unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut n = 0i64;
    while let Some(r) = rows.next().unwrap() { n += r.get::<_, i64>(5).unwrap(); n += r.get_ref(0).unwrap().as_bytes().unwrap().len() as i64; }
    println!("raw scan steps 7 col no join: {:?} {n}", t.elapsed());
    }
}
