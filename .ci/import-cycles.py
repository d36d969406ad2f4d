#!/usr/bin/env python3
"""Lists import cycles between the files of each crate (docs/architecture.md: no file imports a
file that imports it back; a module and its own submodules count as one). A file "imports" another when it names a path inside it: `crate::x`,
`super::x` or `self::x`, in a `use` or inline. Test modules (`#[cfg(test)]` to the end of a file)
are left out. Exits 1 when a cycle is found.

    python3 .ci/import-cycles.py [CRATE_SRC_DIR...]
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT = ["collector/src", "analyzer/src", "reports/src", "live/src", "export/src", "src"]


def module_of(src: pathlib.Path, f: pathlib.Path) -> list[str]:
    rel = f.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def code_of(f: pathlib.Path) -> str:
    text = f.read_text()
    cut = text.find("#[cfg(test)]")
    if cut >= 0:
        text = text[:cut]
    text = re.sub(r"//[^\n]*", "", text)
    return text


def paths_named(text: str, here: list[str]) -> set[tuple[str, ...]]:
    """Absolute module paths (as tuples) the text names, including those inside use groups."""
    out = set()
    # Expand `use a::{b, c::{d}}` groups into single paths.
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        for p in expand(m.group(1).replace("\n", " ")):
            out.add(p)
    for m in re.finditer(r"\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)", text):
        out.add(m.group(1))
    resolved = set()
    for p in out:
        parts = [x.strip() for x in p.split("::") if x.strip()]
        if not parts:
            continue
        if parts[0] == "crate":
            absolute = parts[1:]
        elif parts[0] in ("super", "self"):
            base = list(here)
            while parts and parts[0] in ("super", "self"):
                if parts[0] == "super" and base:
                    base.pop()
                parts = parts[1:]
            absolute = base + parts
        else:
            continue
        resolved.add(tuple(absolute))
    return resolved


def expand(tree: str) -> list[str]:
    tree = tree.strip()
    m = re.match(r"^(.*?)::\{(.*)\}$", tree, re.S)
    if not m:
        return [re.sub(r"\s+as\s+\w+$", "", tree)]
    prefix, inner = m.group(1), m.group(2)
    items, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    items.append(cur)
    out = []
    for it in items:
        it = it.strip()
        if not it:
            continue
        if it == "self":
            out.append(prefix)
        else:
            out.extend(expand(prefix + "::" + it))
    return out


def check(src: pathlib.Path) -> list[list[str]]:
    files = {tuple(module_of(src, f)): f for f in src.rglob("*.rs")}
    edges = {}
    for mod, f in files.items():
        # A file's own module path, for `self`/`super` resolution: mod.rs and lib.rs are the
        # module itself; other files are a child of their folder's module.
        here = list(mod)
        targets = set()
        for path in paths_named(code_of(f), here):
            # The longest prefix of the path that is a file is the file it imports.
            for n in range(len(path), 0, -1):
                if path[:n] in files and path[:n] != mod:
                    targets.add(path[:n])
                    break
        edges[mod] = targets
    # A module and its own submodules (`mod x; pub use x::Y` in the parent, `use super::Z` in
    # the child) are one unit with its interface in the parent: only files that are not each
    # other's ancestor can form a cycle.
    def related(a, b):
        return a[: len(b)] == b or b[: len(a)] == a

    graph = {a: {b for b in ts if not related(a, b)} for a, ts in edges.items()}
    return [sorted("/".join(m) or "lib" for m in scc) for scc in components(graph) if len(scc) > 1]


def components(graph):
    """Strongly connected components (Tarjan), each a list of nodes."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            out.append(scc)

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    dirs = sys.argv[1:] or DEFAULT
    found = False
    for d in dirs:
        src = (ROOT / d).resolve()
        for cycle in check(src):
            found = True
            print(f"{d}: " + " <-> ".join(cycle))
    if not found:
        print("no import cycles between files")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
