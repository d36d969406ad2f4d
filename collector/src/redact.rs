//! `Redactor`: removes secrets from everything a trace puts into the database.
//!
//! Applied while a build is assembled, before anything is stored: step names and instructions,
//! log tails, errors, warnings and cache references. Built-in patterns cover common secrets
//! (credentials and tokens in URLs, `*_SECRET*=`/`*_TOKEN*=`/`*PASSWORD*=` assignments, AWS
//! keys, GitHub/GitLab/Slack tokens, `Authorization:` headers, bearer tokens, private key
//! blocks); users add their own regular expressions with `--redact`.

use std::sync::{Arc, LazyLock};

use regex::{Regex, RegexSet};

use crate::model::Build;

/// What replaces a secret.
pub const MASK: &str = "[redacted]";

/// (pattern, replacement) pairs; `$1` keeps the non-secret prefix.
const BUILT_IN: &[(&str, &str)] = &[
    // https://user:password@host
    (
        r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@",
        "${1}[redacted]@",
    ),
    // ?token=... &access_token=... &sig=...
    (
        r"(?i)([?&](?:access_token|auth|token|api_key|apikey|key|password|passwd|secret|sig|signature|x-amz-signature|x-amz-credential)=)[^&\s]+",
        "${1}[redacted]",
    ),
    // AWS_SECRET_ACCESS_KEY=..., NPM_TOKEN: ..., DB_PASSWORD=...
    (
        r"(?i)(^|[\s;,'\x22(])([A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)[A-Z0-9_]*)(\s*[=:]\s*)[^\s'\x22]+",
        "${1}${2}${3}[redacted]",
    ),
    // Authorization: Basic xxx / Bearer xxx
    (
        r"(?i)\b((?:proxy-)?authorization\s*[:=]\s*)(?:(?:basic|bearer|token|digest)\s+)?[^\s'\x22]+",
        "${1}[redacted]",
    ),
    (r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}", "${1}[redacted]"),
    // AWS access key ids
    (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", "[redacted]"),
    // GitHub, GitLab, Slack, npm tokens
    (r"\bgh[pousr]_[A-Za-z0-9]{30,}\b", "[redacted]"),
    (r"\bgithub_pat_[A-Za-z0-9_]{22,}\b", "[redacted]"),
    (r"\bglpat-[A-Za-z0-9_-]{20,}\b", "[redacted]"),
    (r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b", "[redacted]"),
    (r"\bnpm_[A-Za-z0-9]{36}\b", "[redacted]"),
    // PEM private keys
    (
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
        "[redacted private key]",
    ),
];

static DEFAULTS: LazyLock<Vec<(Regex, String)>> = LazyLock::new(|| {
    BUILT_IN
        .iter()
        .map(|(p, r)| {
            (
                Regex::new(p).expect("built-in redaction pattern"),
                (*r).to_string(),
            )
        })
        .collect()
});

static DEFAULT_SET: LazyLock<Option<RegexSet>> = LazyLock::new(|| any_of(&DEFAULTS));

/// All patterns as one set: one pass over a text tells whether any rule can apply, so text
/// without secrets (nearly all of it) is not scanned once per pattern. `None` if the set
/// could not be built (size limits); every rule is then tried in turn.
fn any_of(rules: &[(Regex, String)]) -> Option<RegexSet> {
    RegexSet::new(rules.iter().map(|(re, _)| re.as_str())).ok()
}

/// A set of patterns to mask.
#[derive(Debug, Clone)]
pub struct Redactor {
    rules: Vec<(Regex, String)>,
    any: Option<RegexSet>,
}

impl Default for Redactor {
    /// The built-in patterns.
    fn default() -> Self {
        Redactor {
            rules: DEFAULTS.clone(),
            any: DEFAULT_SET.clone(),
        }
    }
}

impl Redactor {
    /// No patterns at all (`--no-default-redactions` without `--redact`).
    pub fn none() -> Self {
        Redactor {
            rules: Vec::new(),
            any: None,
        }
    }

    /// Built-ins (unless `defaults` is false) plus user patterns, each masked whole.
    pub fn new(defaults: bool, user: &[String]) -> Result<Self, regex::Error> {
        let mut r = if defaults {
            Redactor::default()
        } else {
            Redactor::none()
        };
        for p in user {
            r.rules.push((Regex::new(p)?, MASK.to_string()));
        }
        if !user.is_empty() {
            r.any = any_of(&r.rules);
        }
        Ok(r)
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether some rule may match `text` (false means `apply` would return it unchanged).
    fn may_match(&self, text: &str) -> bool {
        match &self.any {
            Some(set) => set.is_match(text),
            None => !self.rules.is_empty(),
        }
    }

    /// Masks every match in `text`.
    pub fn apply(&self, text: &str) -> String {
        if !self.may_match(text) {
            return text.to_string();
        }
        self.apply_rules(text)
    }

    /// Every rule in turn, each on the previous one's output.
    fn apply_rules(&self, text: &str) -> String {
        let mut out = std::borrow::Cow::Borrowed(text);
        for (re, rep) in &self.rules {
            if re.is_match(&out) {
                out = std::borrow::Cow::Owned(re.replace_all(&out, rep.as_str()).into_owned());
            }
        }
        out.into_owned()
    }

    /// Masks every match in `text`, in place.
    fn apply_mut(&self, text: &mut String) {
        if self.may_match(text) {
            *text = self.apply_rules(text);
        }
    }

    fn apply_opt(&self, text: &mut Option<String>) {
        if let Some(t) = text {
            self.apply_mut(t);
        }
    }

    /// Masks secrets in everything of `build` that came from the trace.
    pub fn redact_build(&self, build: &mut Build) {
        if self.is_empty() {
            return;
        }
        self.apply_opt(&mut build.error);
        self.apply_opt(&mut build.reference);
        for w in &mut build.warnings {
            self.apply_mut(w);
        }
        for c in &mut build.cache_imports {
            self.apply_mut(c);
        }
        for s in &mut build.steps {
            self.apply_mut(&mut s.name);
            self.apply_mut(&mut s.instruction);
            self.apply_mut(&mut s.log_tail);
            self.apply_opt(&mut s.error);
        }
    }
}

/// A shared redactor, cheap to clone into options.
pub type SharedRedactor = Arc<Redactor>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_patterns() {
        let r = Redactor::default();
        let cases = [
            (
                "git clone https://bob:hunter2@github.com/x/y",
                "git clone https://[redacted]@github.com/x/y",
            ),
            (
                "curl https://x.io/f?token=abc123&y=1",
                "curl https://x.io/f?token=[redacted]&y=1",
            ),
            (
                "RUN AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG aws s3 ls",
                "RUN AWS_SECRET_ACCESS_KEY=[redacted] aws s3 ls",
            ),
            (
                "export NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789",
                "export NPM_TOKEN=[redacted]",
            ),
            (
                "Authorization: Bearer eyJhbGciOi.J9",
                "Authorization: [redacted]",
            ),
            (
                "curl -H 'authorization: token ghp_0123456789abcdefghijklmnopqrstuvwxyz'",
                "curl -H 'authorization: [redacted]'",
            ),
            ("key AKIAIOSFODNN7EXAMPLE here", "key [redacted] here"),
            (
                "push with ghp_0123456789abcdefghijklmnopqrstuvwxyz ok",
                "push with [redacted] ok",
            ),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
                "[redacted private key]",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(r.apply(input), want, "{input}");
        }
        // Ordinary build output is left alone.
        let plain = "RUN /venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt";
        assert_eq!(r.apply(plain), plain);
        assert_eq!(
            r.apply("Successfully installed certifi-2026.10.18"),
            "Successfully installed certifi-2026.10.18"
        );
    }

    #[test]
    fn user_patterns_and_opt_out() {
        let r = Redactor::new(false, &["internal\\.corp\\.example".into()]).unwrap();
        assert_eq!(
            r.apply("fetch internal.corp.example AKIAIOSFODNN7EXAMPLE"),
            "fetch [redacted] AKIAIOSFODNN7EXAMPLE"
        );
        assert!(Redactor::new(true, &["(".into()]).is_err());
    }
}
