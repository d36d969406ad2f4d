//! The one line an error is printed as: the cause chain once, each phrase a single time.
//!
//! Library errors often repeat their source in their own message (`database x.db: file is not a
//! database`, then the source `file is not a database`), and SQLite's lowest layer adds its
//! numeric code (`Error code 26: file is not a database`). Printing anyhow's chain as it is
//! (`{:#}`) would say the same thing two or three times; this joins the chain's phrases (its
//! messages split at `": "`) and leaves out a phrase the line already says, and SQLite's
//! `Error code N`, whose text is always beside it.

/// `err` and its causes as one line, no phrase repeated.
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = String::new();
    for cause in std::iter::successors(Some(err), |e| e.source()) {
        for phrase in cause.to_string().split(": ") {
            let phrase = phrase.trim();
            if phrase.is_empty() || is_sqlite_code(phrase) || says(&line, phrase) {
                continue;
            }
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(phrase);
        }
    }
    // Multi-line messages (a clap or serde excerpt) stay readable on one line.
    line.replace('\n', " ")
}

/// SQLite's `Error code 26`, which rusqlite puts in front of the text of the code.
fn is_sqlite_code(phrase: &str) -> bool {
    phrase
        .strip_prefix("Error code ")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `line` already holds `phrase` as whole words.
fn says(line: &str, phrase: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    line.match_indices(phrase).any(|(at, _)| {
        !word(line[..at].chars().next_back()) && !word(line[at + phrase.len()..].chars().next())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("database {path}: {source}")]
    struct Db {
        path: String,
        #[source]
        source: Leaf,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("file is not a database")]
    struct Leaf(#[source] Code);

    #[derive(Debug, thiserror::Error)]
    #[error("Error code 26: file is not a database")]
    struct Code;

    #[test]
    fn a_repeated_cause_is_said_once() {
        let err = anyhow::Error::new(Db {
            path: "notdb.db".into(),
            source: Leaf(Code),
        })
        .context("cannot open database notdb.db");
        assert_eq!(
            one_line(err.as_ref()),
            "cannot open database notdb.db: file is not a database"
        );
    }

    #[test]
    fn distinct_causes_are_all_kept() {
        let err = anyhow::anyhow!("connection refused").context("cannot send to http://x:1");
        assert_eq!(
            one_line(err.as_ref()),
            "cannot send to http://x:1: connection refused"
        );
        // A phrase inside a longer word is not a repeat.
        let err = anyhow::anyhow!("lock").context("blocked on x");
        assert_eq!(one_line(err.as_ref()), "blocked on x: lock");
    }
}
