//! `DockerIgnore`: the `.dockerignore` rules of a build context, as the Docker CLI applies them.
//!
//! Lines are patterns (`#` starts a comment, `!` re-includes), matched against the path relative
//! to the context with `/` separators; `*` and `?` stay within one path element, `**` spans any
//! number of them, `[...]` is a character class. A pattern that matches a directory excludes
//! everything under it. The last matching pattern decides.

#[derive(Debug, Clone, Default)]
pub(crate) struct DockerIgnore {
    rules: Vec<(Vec<u8>, bool)>,
}

impl DockerIgnore {
    pub(crate) fn parse(text: &str) -> DockerIgnore {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (pattern, include) = match line.strip_prefix('!') {
                Some(p) => (p.trim(), true),
                None => (line, false),
            };
            let pattern = clean(pattern);
            if !pattern.is_empty() {
                rules.push((pattern.into_bytes(), include));
            }
        }
        DockerIgnore { rules }
    }

    /// Patterns as BuildKit sends them in a session's metadata: already parsed (no comments,
    /// nothing trimmed), `!` marking an exception.
    pub(crate) fn from_patterns(patterns: &[String]) -> DockerIgnore {
        let rules = patterns
            .iter()
            .filter_map(|p| {
                let (pattern, include) = match p.strip_prefix('!') {
                    Some(p) => (p, true),
                    None => (p.as_str(), false),
                };
                let pattern = clean(pattern);
                (!pattern.is_empty()).then(|| (pattern.into_bytes(), include))
            })
            .collect();
        DockerIgnore { rules }
    }

    /// Whether any rule re-includes paths (then excluded directories must still be walked).
    pub(crate) fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|(_, include)| *include)
    }

    /// Whether `rel` (relative to the context, `/`-separated) is excluded.
    pub(crate) fn excludes(&self, rel: &str) -> bool {
        let mut excluded = false;
        for (pattern, include) in &self.rules {
            if matches_path_or_parent(pattern, rel.as_bytes()) {
                excluded = !include;
            }
        }
        excluded
    }
}

/// Like Go's `filepath.Clean` for patterns: no leading `/` or `./`, no empty or `.` elements.
pub(crate) fn clean(p: &str) -> String {
    let parts: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    parts.join("/")
}

fn matches_path_or_parent(pattern: &[u8], path: &[u8]) -> bool {
    if glob(pattern, path) {
        return true;
    }
    path.iter()
        .enumerate()
        .filter(|(_, c)| **c == b'/')
        .any(|(i, _)| glob(pattern, &path[..i]))
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') if p.get(1) == Some(&b'*') => {
            let rest = &p[2..];
            if let Some(after_slash) = rest.strip_prefix(b"/") {
                // `**/x`: x here, or after any `/`.
                glob(after_slash, s)
                    || s.iter()
                        .enumerate()
                        .any(|(i, c)| *c == b'/' && glob(after_slash, &s[i + 1..]))
            } else {
                (0..=s.len()).any(|i| glob(rest, &s[i..]))
            }
        }
        Some(b'*') => {
            let run = s.iter().take_while(|c| **c != b'/').count();
            (0..=run).any(|i| glob(&p[1..], &s[i..]))
        }
        Some(b'?') => matches!(s.first(), Some(c) if *c != b'/') && glob(&p[1..], &s[1..]),
        Some(b'[') => match (class(&p[1..]), s.first()) {
            (Some((ok, len)), Some(&c)) if c != b'/' => ok(c) && glob(&p[1 + len..], &s[1..]),
            (None, Some(b'[')) => glob(&p[1..], &s[1..]),
            _ => false,
        },
        Some(b'\\') if p.len() > 1 => s.first() == Some(&p[1]) && glob(&p[2..], &s[1..]),
        Some(&c) => s.first() == Some(&c) && glob(&p[1..], &s[1..]),
    }
}

/// A `[...]` class after its `[`: a matcher and the bytes it spans including `]`.
#[allow(clippy::type_complexity)]
fn class(p: &[u8]) -> Option<(Box<dyn Fn(u8) -> bool + '_>, usize)> {
    let (negated, body_start) = match p.first() {
        Some(b'^') | Some(b'!') => (true, 1),
        _ => (false, 0),
    };
    let end = p[body_start..].iter().position(|c| *c == b']')? + body_start;
    let body = &p[body_start..end];
    let f = move |c: u8| {
        let mut i = 0;
        let mut hit = false;
        while i < body.len() {
            if i + 2 < body.len() && body[i + 1] == b'-' {
                hit |= body[i] <= c && c <= body[i + 2];
                i += 3;
            } else {
                hit |= body[i] == c;
                i += 1;
            }
        }
        hit != negated
    };
    Some((Box::new(f), end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_cli_rules() {
        let ig = DockerIgnore::parse(
            "# comment\n.git\n/target\n*.log\n!keep.log\n**/node_modules\ndocs/*.md\nfile?.txt\n[ab].c\n",
        );
        assert!(ig.excludes(".git"));
        assert!(ig.excludes(".git/config"));
        assert!(ig.excludes("target/debug/x"));
        assert!(ig.excludes("build.log"));
        assert!(!ig.excludes("keep.log"));
        assert!(!ig.excludes("sub/build.log"), "* does not cross /");
        assert!(ig.excludes("a/b/node_modules/x"));
        assert!(ig.excludes("node_modules"));
        assert!(ig.excludes("docs/a.md"));
        assert!(!ig.excludes("docs/sub/a.md"));
        assert!(ig.excludes("file1.txt"));
        assert!(ig.excludes("a.c") && !ig.excludes("c.c"));
        assert!(!ig.excludes("src/main.rs"));
        assert!(ig.has_exceptions());
    }
}
