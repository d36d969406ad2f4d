//! `parse`: a Dockerfile's stage graph (stages, their bases, `COPY --from`, `RUN --mount=from=`)
//! and its instructions with the context paths they read and the build args they use.
//!
//! Only what cache-bust causes need is parsed, never executed: line continuations (with the
//! `# escape=` directive), comments, heredoc bodies (skipped), `FROM [--platform] x [AS y]`,
//! `COPY`/`ADD` flags and sources (shell and JSON forms), `RUN --mount` options, `ARG` names and
//! `$NAME`/`${NAME...}` references. Stage names are lower-cased and unnamed stages are
//! `stage-N`, as BuildKit prints them; instructions that make a vertex (`FROM` an image, `RUN`,
//! `COPY`, `ADD`, `WORKDIR`) are numbered as BuildKit's `[stage i/n]` numbers them.

use serde::{Deserialize, Serialize};

/// The parsed stage graph of one Dockerfile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageGraph {
    /// `ARG`s declared before the first `FROM`.
    pub global_args: Vec<String>,
    pub stages: Vec<Stage>,
}

/// One build stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    /// As BuildKit prints it: the lower-cased `AS` name, else `stage-N`.
    pub name: String,
    /// The `FROM` argument as written (`${BASE}`, `deps`, `python:3.12`).
    pub base: String,
    /// The earlier stage it is built `FROM`, when it is one.
    pub base_stage: Option<String>,
    /// Global args its `FROM` line uses.
    pub from_args: Vec<String>,
    /// `ARG`s declared in the stage.
    pub args: Vec<String>,
    pub instructions: Vec<Instruction>,
}

/// One instruction of a stage (its `FROM` included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instruction {
    /// 1-based line of the instruction's first line.
    pub line: u32,
    /// Upper-case keyword (`RUN`, `COPY`, ...).
    pub keyword: String,
    /// The instruction as written, continuation lines joined.
    pub text: String,
    /// Its number in BuildKit's `[stage i/n]`, for instructions that make a vertex.
    pub vertex: Option<u32>,
    /// Context paths it reads (`COPY`/`ADD` sources without `--from`, `RUN` bind mounts
    /// without `from`), as written.
    pub sources: Vec<String>,
    /// The stage a `COPY --from=` reads.
    pub from_stage: Option<String>,
    /// Stages a `RUN --mount=...,from=` reads.
    pub mount_from: Vec<String>,
    /// Build args (stage or global) it references or, for `RUN`, has in its environment.
    pub args_used: Vec<String>,
}

impl StageGraph {
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }
}

impl Stage {
    /// The instruction BuildKit numbers `i` in this stage.
    pub fn vertex(&self, i: u32) -> Option<&Instruction> {
        self.instructions.iter().find(|x| x.vertex == Some(i))
    }
}

/// Parses Dockerfile text. Never fails: what it cannot read it leaves out.
pub fn parse(text: &str) -> StageGraph {
    let mut graph = StageGraph::default();
    let mut declared_global: Vec<String> = Vec::new();
    for (line, raw) in logical_lines(text) {
        let (keyword, rest) = match raw.split_once(char::is_whitespace) {
            Some((k, r)) => (k.to_ascii_uppercase(), r.trim().to_string()),
            None => (raw.to_ascii_uppercase(), String::new()),
        };
        if keyword == "FROM" {
            let stage = new_stage(&rest, &graph, &declared_global);
            let mut from = instruction(line, &keyword, &raw);
            if stage.base_stage.is_none() {
                from.vertex = Some(1);
            }
            let mut stage = stage;
            stage.instructions.push(from);
            graph.stages.push(stage);
            continue;
        }
        let Some(stage) = graph.stages.last_mut() else {
            if keyword == "ARG" {
                declared_global.extend(arg_names(&rest));
            }
            continue;
        };
        let mut ins = instruction(line, &keyword, &raw);
        match keyword.as_str() {
            "ARG" => stage.args.extend(arg_names(&rest)),
            "COPY" | "ADD" => read_copy(&rest, &mut ins, &graph.stages),
            "RUN" => read_run(&rest, &mut ins, &graph.stages),
            _ => {}
        }
        let stage = graph.stages.last_mut().expect("a stage");
        let visible: Vec<&String> = stage.args.iter().chain(declared_global.iter()).collect();
        ins.args_used = visible
            .iter()
            .filter(|a| references(&rest, a) || (keyword == "RUN" && stage.args.contains(a)))
            .map(|a| a.to_string())
            .collect();
        ins.args_used.sort();
        ins.args_used.dedup();
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD" | "WORKDIR") {
            let n = stage.instructions.iter().filter_map(|i| i.vertex).max();
            ins.vertex = Some(n.unwrap_or(0) + 1);
        }
        stage.instructions.push(ins);
    }
    graph.global_args = declared_global;
    graph
}

fn instruction(line: u32, keyword: &str, text: &str) -> Instruction {
    Instruction {
        line,
        keyword: keyword.to_string(),
        text: text.to_string(),
        vertex: None,
        sources: Vec::new(),
        from_stage: None,
        mount_from: Vec::new(),
        args_used: Vec::new(),
    }
}

fn new_stage(rest: &str, graph: &StageGraph, globals: &[String]) -> Stage {
    let words: Vec<&str> = rest
        .split_whitespace()
        .filter(|w| !w.starts_with("--"))
        .collect();
    let base = words.first().copied().unwrap_or("").to_string();
    let name = match words.get(1) {
        Some(a) if a.eq_ignore_ascii_case("as") => words.get(2).map(|n| n.to_ascii_lowercase()),
        _ => None,
    }
    .unwrap_or_else(|| format!("stage-{}", graph.stages.len()));
    let base_stage = graph
        .stages
        .iter()
        .find(|s| s.name == base.to_ascii_lowercase())
        .map(|s| s.name.clone());
    Stage {
        name,
        from_args: globals
            .iter()
            .filter(|a| references(rest, a))
            .cloned()
            .collect(),
        base,
        base_stage,
        args: Vec::new(),
        instructions: Vec::new(),
    }
}

/// `--from=x` as a stage: by name, or by index.
fn stage_ref(value: &str, stages: &[Stage]) -> Option<String> {
    let v = value.to_ascii_lowercase();
    if let Some(s) = stages.iter().find(|s| s.name == v) {
        return Some(s.name.clone());
    }
    v.parse::<usize>()
        .ok()
        .and_then(|i| stages.get(i))
        .map(|s| s.name.clone())
}

fn read_copy(rest: &str, ins: &mut Instruction, stages: &[Stage]) {
    let (flags, args) = split_flags(rest);
    let mut from = None;
    for f in &flags {
        if let Some(v) = f.strip_prefix("--from=") {
            from = Some(v.to_string());
        }
    }
    let mut paths = if args.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<String>>(args.trim()).unwrap_or_default()
    } else if args.contains("<<") {
        Vec::new() // heredoc sources are inline text, not context files
    } else {
        args.split_whitespace().map(str::to_string).collect()
    };
    paths.pop(); // the destination
    match from {
        Some(f) => ins.from_stage = stage_ref(&f, stages),
        None => {
            ins.sources = paths
                .into_iter()
                .filter(|p| !p.contains("://") && !p.starts_with("git@"))
                .collect()
        }
    }
}

fn read_run(rest: &str, ins: &mut Instruction, stages: &[Stage]) {
    let (flags, _) = split_flags(rest);
    for f in flags {
        let Some(spec) = f.strip_prefix("--mount=") else {
            continue;
        };
        let mut from = None;
        let mut source = None;
        let mut kind = "bind";
        for kv in spec.split(',') {
            match kv.split_once('=') {
                Some(("from", v)) => from = Some(v),
                Some(("source" | "src", v)) => source = Some(v),
                Some(("type", v)) => kind = v,
                _ => {}
            }
        }
        match (from, kind) {
            (Some(f), _) => {
                if let Some(s) = stage_ref(f, stages) {
                    ins.mount_from.push(s);
                }
            }
            (None, "bind") => ins.sources.push(source.unwrap_or(".").to_string()),
            _ => {}
        }
    }
}

/// Leading `--flag[=value]` words and the rest of the line.
fn split_flags(rest: &str) -> (Vec<String>, &str) {
    let mut flags = Vec::new();
    let mut s = rest.trim_start();
    while s.starts_with("--") {
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        flags.push(s[..end].to_string());
        s = s[end..].trim_start();
    }
    (flags, s)
}

fn arg_names(rest: &str) -> Vec<String> {
    rest.split_whitespace()
        .map(|w| w.split('=').next().unwrap_or("").to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

/// Whether `text` references `$name` or `${name...}`.
fn references(text: &str, name: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(i) = text[at..].find('$') {
        let start = at + i + 1;
        let braced = bytes.get(start) == Some(&b'{');
        let from = start + usize::from(braced);
        let len = text[from..]
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        if &text[from..from + len] == name {
            return true;
        }
        at = start;
    }
    false
}

/// The instructions of a Dockerfile as (first line, text) with continuations joined, comments,
/// blank lines, parser directives and heredoc bodies left out.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let escape = directive_escape(text);
    let mut out = Vec::new();
    let mut current: Option<(u32, String)> = None;
    let mut heredoc: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i as u32 + 1;
        if let Some(end) = &heredoc {
            if line.trim_start_matches('\t') == end {
                heredoc = None;
            }
            continue;
        }
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        let te = line.trim_end();
        let (part, continues) = match te.strip_suffix(escape) {
            Some(p) => (p, true),
            None => (te, false),
        };
        let part = if current.is_some() {
            part
        } else {
            part.trim_start()
        };
        let entry = current.get_or_insert((n, String::new()));
        entry.1.push_str(part);
        if !continues {
            let (first, done) = current.take().expect("a line");
            heredoc = heredoc_end(&done);
            out.push((first, done));
        }
    }
    if let Some(rest) = current {
        out.push(rest);
    }
    out
}

fn directive_escape(text: &str) -> char {
    for line in text.lines() {
        let l = line.trim();
        let Some(d) = l.strip_prefix('#') else {
            break;
        };
        if let Some((k, v)) = d.split_once('=') {
            if k.trim().eq_ignore_ascii_case("escape") && v.trim() == "`" {
                return '`';
            }
        }
    }
    '\\'
}

/// The terminator of a heredoc the instruction opens (`<<EOF`, `<<-"EOF"`).
fn heredoc_end(line: &str) -> Option<String> {
    let i = line.find("<<")?;
    let word = line[i + 2..]
        .trim_start_matches('-')
        .split_whitespace()
        .next()?;
    let word = word.trim_matches(|c| c == '"' || c == '\'');
    (!word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| word.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_vertices_as_buildkit_and_links_stages() {
        let g = parse(
            "# escape=\\\nARG BASE=busybox\nFROM ${BASE} AS Base\nRUN mkdir /opt\n\nFROM base AS deps\nARG LEVEL=3\nCOPY deps/req.txt /deps/\nRUN echo $LEVEL \\\n    && true\nFROM base\nCOPY --from=deps /opt /opt\nCOPY [\"src\", \"lib dir\", \"/app\"]\nRUN --mount=type=cache,target=/c --mount=from=deps,target=/d make\nWORKDIR /app\nCMD [\"x\"]\n",
        );
        assert_eq!(g.global_args, vec!["BASE"]);
        let names: Vec<_> = g.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["base", "deps", "stage-2"]);
        assert_eq!(g.stages[0].from_args, vec!["BASE"]);
        assert_eq!(g.stages[0].vertex(1).unwrap().keyword, "FROM");
        assert_eq!(g.stages[0].vertex(2).unwrap().keyword, "RUN");
        let deps = g.stage("deps").unwrap();
        assert_eq!(deps.base_stage.as_deref(), Some("base"));
        assert_eq!(deps.vertex(1).unwrap().sources, vec!["deps/req.txt"]);
        let run = deps.vertex(2).unwrap();
        assert_eq!(run.text, "RUN echo $LEVEL     && true");
        assert_eq!(run.args_used, vec!["LEVEL"]);
        let last = &g.stages[2];
        assert_eq!(last.vertex(1).unwrap().from_stage.as_deref(), Some("deps"));
        assert_eq!(last.vertex(2).unwrap().sources, vec!["src", "lib dir"]);
        assert_eq!(last.vertex(3).unwrap().mount_from, vec!["deps"]);
        assert_eq!(last.vertex(4).unwrap().keyword, "WORKDIR");
        assert!(last.vertex(5).is_none(), "CMD makes no vertex");
    }

    #[test]
    fn heredoc_bodies_are_not_instructions() {
        let g = parse("FROM a\nRUN <<EOF\nFROM nope\nEOF\nCOPY x /x\n");
        assert_eq!(g.stages.len(), 1);
        assert_eq!(g.stages[0].vertex(3).unwrap().sources, vec!["x"]);
    }
}
