//! Step names: what BuildKit's vertex names say about a step's kind, stage and instruction.
//!
//! Dockerfile steps are named by the frontend's `prefixCommand`:
//! `[<platform> ][<stage> ]<i>/<n>] <INSTRUCTION ...>`, the index space-padded to the width of
//! the total (`[ 3/12]`, `[integration-tests-base  3/18]`). Bake prefixes a target (`[t] ...`,
//! or `[t internal] ...`). Everything else is BuildKit's own bookkeeping.

use crate::model::StepKind;

/// What a vertex name says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameParts {
    pub stage: Option<String>,
    pub stage_index: Option<u32>,
    pub stage_total: Option<u32>,
    pub platform: Option<String>,
    /// The bake target prefix, if any.
    pub target: Option<String>,
    /// The name without its bracketed prefixes.
    pub instruction: String,
}

/// Splits a vertex name into its parts.
pub fn parse_name(name: &str) -> NameParts {
    let mut parts = NameParts::default();
    let mut rest = name.trim();
    // At most two bracket groups: an optional bake target, then the step prefix.
    for _ in 0..2 {
        let Some(inner_end) = bracket_end(rest) else {
            break;
        };
        let inner = &rest[1..inner_end];
        let after = rest[inner_end + 1..].trim_start();
        let tokens: Vec<&str> = inner.split_whitespace().collect();
        if let Some(idx) = tokens.last().and_then(|t| parse_index(t)) {
            parts.stage_index = Some(idx.0);
            parts.stage_total = Some(idx.1);
            let names = &tokens[..tokens.len() - 1];
            match names {
                [] => {}
                [one] if is_platform(one) => parts.platform = Some((*one).to_string()),
                [one] => parts.stage = Some((*one).to_string()),
                [platform, stage, ..] => {
                    parts.platform = Some((*platform).to_string());
                    parts.stage = Some((*stage).to_string());
                }
            }
            rest = after;
            break;
        }
        if after.starts_with('[') && parts.target.is_none() && tokens.len() == 1 {
            // `[target] [stage i/n] ...`: a bake target prefix.
            parts.target = Some(tokens[0].to_string());
            rest = after;
            continue;
        }
        if tokens.len() == 2 && matches!(tokens[1], "internal" | "auth") {
            parts.target = Some(tokens[0].to_string());
        }
        break;
    }
    parts.instruction = rest.to_string();
    parts
}

/// The kind of a step from its full vertex name.
pub fn kind_of(name: &str, parts: &NameParts) -> StepKind {
    if parts.stage_index.is_some() {
        return instruction_kind(&parts.instruction).unwrap_or(StepKind::Other);
    }
    let n = name.trim();
    let lower_internal = n.starts_with("[internal]")
        || n.starts_with("[auth]")
        || n.starts_with("[context ")
        || n.contains(" internal] ")
        || n.contains(" auth] ")
        || n.starts_with("resolve image config")
        || n.starts_with("load metadata for")
        || n == "copy /context /"
        || n.starts_with("load build definition")
        || n.starts_with("load .dockerignore");
    if lower_internal {
        return StepKind::Internal;
    }
    let body = strip_target(n);
    if body.starts_with("importing cache manifest") {
        return StepKind::CacheImport;
    }
    if body.starts_with("exporting cache")
        || body.starts_with("exporting to GitHub Actions Cache")
        || body.starts_with("exporting to Amazon S3")
        || body.starts_with("exporting to Azure Blob Storage")
        || body.starts_with("exporting content cache")
        || body.starts_with("preparing layers for inline cache")
    {
        return StepKind::CacheExport;
    }
    if body.starts_with("exporting to ")
        || body.starts_with("exporting layers")
        || body.starts_with("pushing ")
        || body.starts_with("writing image")
        || body.starts_with("naming to")
    {
        return StepKind::ImageExport;
    }
    StepKind::Other
}

fn strip_target(name: &str) -> &str {
    if name.starts_with('[') {
        if let Some(end) = bracket_end(name) {
            return name[end + 1..].trim_start();
        }
    }
    name
}

/// The instruction keyword at the start of `text` (`RUN`, `COPY`...).
pub fn instruction_kind(text: &str) -> Option<StepKind> {
    let word = text.split_whitespace().next()?;
    let kind = match word.to_ascii_uppercase().as_str() {
        "RUN" => StepKind::Run,
        "COPY" => StepKind::Copy,
        "ADD" => StepKind::Add,
        "FROM" => StepKind::From,
        "WORKDIR" => StepKind::Workdir,
        "ENV" => StepKind::Env,
        "ARG" => StepKind::Arg,
        "LABEL" => StepKind::Label,
        "USER" => StepKind::User,
        "EXPOSE" => StepKind::Expose,
        "VOLUME" => StepKind::Volume,
        "ENTRYPOINT" => StepKind::Entrypoint,
        "CMD" => StepKind::Cmd,
        "SHELL" => StepKind::Shell,
        "HEALTHCHECK" => StepKind::Healthcheck,
        "ONBUILD" => StepKind::Onbuild,
        "STOPSIGNAL" => StepKind::Stopsignal,
        _ => return None,
    };
    Some(kind)
}

fn bracket_end(s: &str) -> Option<usize> {
    if !s.starts_with('[') {
        return None;
    }
    s.find(']')
}

fn parse_index(token: &str) -> Option<(u32, u32)> {
    let (i, n) = token.split_once('/')?;
    Some((i.parse().ok()?, n.parse().ok()?))
}

fn is_platform(token: &str) -> bool {
    token.contains('/') && parse_index(token).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> StepKind {
        kind_of(name, &parse_name(name))
    }

    #[test]
    fn dockerfile_step_with_stage() {
        let p = parse_name("[deps 4/4] RUN /venv/bin/pip install -r /tmp/requirements.txt");
        assert_eq!(p.stage.as_deref(), Some("deps"));
        assert_eq!((p.stage_index, p.stage_total), (Some(4), Some(4)));
        assert_eq!(
            p.instruction,
            "RUN /venv/bin/pip install -r /tmp/requirements.txt"
        );
        assert_eq!(kind("[deps 4/4] RUN x"), StepKind::Run);
    }

    #[test]
    fn space_padded_index_and_unnamed_stage() {
        let p = parse_name("[ 3/12] COPY . /src");
        assert_eq!(p.stage, None);
        assert_eq!(p.stage_index, Some(3));
        assert_eq!(p.stage_total, Some(12));
        let p = parse_name("[integration-tests-base  3/18] RUN make");
        assert_eq!(p.stage.as_deref(), Some("integration-tests-base"));
        assert_eq!(p.stage_index, Some(3));
    }

    #[test]
    fn platform_and_bake_target() {
        let p = parse_name("[linux/arm64 build 2/5] RUN go build");
        assert_eq!(p.platform.as_deref(), Some("linux/arm64"));
        assert_eq!(p.stage.as_deref(), Some("build"));
        let p = parse_name("[app] [build 2/5] RUN go build");
        assert_eq!(p.target.as_deref(), Some("app"));
        assert_eq!(p.stage.as_deref(), Some("build"));
        assert_eq!(p.instruction, "RUN go build");
        assert_eq!(
            kind("[app internal] load build definition from Dockerfile"),
            StepKind::Internal
        );
    }

    #[test]
    fn bookkeeping_vertices() {
        assert_eq!(kind("[internal] load build context"), StepKind::Internal);
        assert_eq!(
            kind("[auth] library/alpine:pull token for registry-1.docker.io"),
            StepKind::Internal
        );
        assert_eq!(
            kind("importing cache manifest from 127.0.0.1:5000/app1:cache-min"),
            StepKind::CacheImport
        );
        assert_eq!(kind("exporting cache to registry"), StepKind::CacheExport);
        assert_eq!(kind("exporting cache"), StepKind::CacheExport);
        assert_eq!(
            kind("preparing layers for inline cache"),
            StepKind::CacheExport
        );
        assert_eq!(kind("exporting to image"), StepKind::ImageExport);
        assert_eq!(kind("copy /context /"), StepKind::Internal);
        assert_eq!(
            kind("[stage-0 1/2] FROM docker.io/local/busybox:1"),
            StepKind::From
        );
        assert_eq!(kind("something custom"), StepKind::Other);
    }
}
