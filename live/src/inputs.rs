//! Recording a build's inputs: where the context and Dockerfile are and which build args were
//! given (from explicit options, or read off a wrapped `docker build` / `docker buildx build`
//! command line), gathered on a thread of its own so that hashing the context runs while the
//! build does.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use collector::inputs::{base_references, BuildArg, BuildInputs, DockerfileInput};
use collector::redact::Redactor;

use crate::manifest::{hash_context, ManifestLimits};

/// What to record about a build's inputs.
#[derive(Debug, Clone, Default)]
pub struct InputsRequest {
    /// The context directory (`None`: no manifest).
    pub context: Option<PathBuf>,
    /// The Dockerfile (default: `Dockerfile` in the context).
    pub dockerfile: Option<PathBuf>,
    /// `NAME=VALUE`, or `NAME` alone (its value then comes from the environment, as with docker).
    pub build_args: Vec<String>,
    pub store_arg_values: bool,
    pub limits: ManifestLimits,
    /// Where hashes of unchanged files are remembered between builds (beside the database).
    pub hash_cache: Option<PathBuf>,
    /// Why something could not be found (a context that is a URL or stdin).
    pub notes: Vec<String>,
}

impl InputsRequest {
    /// The inputs of an Engine API build (`buildprof build`) stored in database `db`: its
    /// context, Dockerfile and build args.
    pub fn of_build(request: &crate::engine::BuildRequest, db: &Path) -> InputsRequest {
        let args = request.build_args.iter().map(|(k, v)| format!("{k}={v}"));
        InputsRequest {
            context: Some(request.context.clone()),
            dockerfile: request.dockerfile.clone(),
            build_args: args.collect(),
            hash_cache: Some(hash_cache_beside(db)),
            ..InputsRequest::default()
        }
    }
}

/// The file beside database `db` that remembers context file hashes.
pub fn hash_cache_beside(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push("-hashes");
    PathBuf::from(p)
}

/// Context, Dockerfile and build args read off a build command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandInputs {
    pub context: Option<String>,
    pub dockerfile: Option<String>,
    pub build_args: Vec<String>,
}

/// Flags of `docker build`/`docker buildx build` that take no value.
const SWITCHES: &[&str] = &[
    "--push",
    "--load",
    "--pull",
    "--no-cache",
    "-q",
    "--quiet",
    "--rm",
    "--force-rm",
    "--squash",
    "--check",
    "--compress",
    "--disable-content-trust",
    "--debug",
    "-D",
    "--no-cache-filter=false",
    "--help",
];

/// Reads the context (last positional argument), `-f/--file` and `--build-arg`s of a
/// `docker [buildx|image|builder] build ...` (or `buildx build`, `podman build`) command.
/// `None` when `argv` is not such a command.
pub fn parse_build_command(argv: &[OsString]) -> Option<CommandInputs> {
    let args: Vec<String> = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let program = Path::new(args.first()?)
        .file_name()?
        .to_string_lossy()
        .into_owned();
    if !matches!(
        program.as_str(),
        "docker" | "docker-buildx" | "buildx" | "podman" | "nerdctl"
    ) {
        return None;
    }
    let build = args.iter().take(5).position(|a| a == "build" || a == "b")?;
    let between_ok = args[1..build]
        .iter()
        .all(|a| matches!(a.as_str(), "buildx" | "image" | "builder") || a.starts_with('-'));
    if !between_ok || (args[build] == "b" && !args[1..build].iter().any(|a| a == "buildx")) {
        return None;
    }
    let mut out = CommandInputs::default();
    let mut i = build + 1;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            out.context = args.get(i).cloned();
            break;
        }
        if !a.starts_with('-') || a == "-" {
            out.context = Some(a.clone());
            continue;
        }
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        if SWITCHES.contains(&flag) {
            continue;
        }
        let value = match inline {
            Some(v) => Some(v),
            None => {
                i += 1;
                args.get(i - 1).cloned()
            }
        };
        match flag {
            "-f" | "--file" => out.dockerfile = value,
            "--build-arg" => out.build_args.extend(value),
            _ => {}
        }
    }
    Some(out)
}

impl InputsRequest {
    /// Fills what was not given explicitly from a wrapped build command line.
    pub fn complete_from(&mut self, argv: &[OsString]) {
        let Some(found) = parse_build_command(argv) else {
            return;
        };
        if self.context.is_none() {
            match found.context.as_deref() {
                Some("-") => self
                    .notes
                    .push("the context is read from stdin: no manifest".into()),
                Some(c) if c.contains("://") || c.starts_with("git@") => self
                    .notes
                    .push(format!("the context {c} is remote: no manifest")),
                Some(c) => self.context = Some(PathBuf::from(c)),
                None => {}
            }
        }
        if self.dockerfile.is_none() {
            match found.dockerfile.as_deref() {
                Some("-") => self
                    .notes
                    .push("the Dockerfile is read from stdin: not recorded".into()),
                Some(f) => self.dockerfile = Some(PathBuf::from(f)),
                None => {}
            }
        }
        for a in found.build_args {
            let name = a.split('=').next().unwrap_or("");
            if !self
                .build_args
                .iter()
                .any(|b| b.split('=').next() == Some(name))
            {
                self.build_args.push(a);
            }
        }
    }

    /// Whether there is anything to record.
    pub fn is_empty(&self) -> bool {
        self.context.is_none() && self.dockerfile.is_none() && self.build_args.is_empty()
    }

    /// Starts gathering the inputs on a thread of the lowest priority, so hashing takes the CPU
    /// the build leaves idle; [`InputsJob::finish`] waits for it.
    pub fn start(self, redactor: Arc<Redactor>) -> InputsJob {
        let handle = std::thread::Builder::new()
            .name("buildprof-inputs".into())
            .spawn(move || {
                crate::background::yield_to_the_build();
                let started = Instant::now();
                let inputs = self.gather(&redactor);
                (inputs, started.elapsed())
            })
            .ok();
        InputsJob { handle }
    }

    /// Reads the Dockerfile, hashes the args and the context (on the calling thread).
    pub fn gather(self, redactor: &Redactor) -> BuildInputs {
        let mut inputs = BuildInputs {
            context: self.context.as_ref().map(|c| c.display().to_string()),
            arg_values_stored: self.store_arg_values,
            notes: self.notes,
            ..BuildInputs::default()
        };
        let mut given: Vec<(String, String)> = Vec::new();
        for a in &self.build_args {
            let (name, value) = match a.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (a.clone(), std::env::var(a).ok()),
            };
            if let Some(v) = &value {
                given.push((name.clone(), v.clone()));
            }
            inputs.args.push(BuildArg::new(
                &name,
                value.as_deref(),
                self.store_arg_values,
                redactor,
            ));
        }
        inputs.args.sort_by(|a, b| a.name.cmp(&b.name));
        let dockerfile = self
            .dockerfile
            .clone()
            .or_else(|| self.context.as_ref().map(|c| c.join("Dockerfile")));
        if let Some(path) = dockerfile {
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let df = DockerfileInput::new(path.display().to_string(), text);
                    inputs.base_images = base_references(&df.text, &df.graph, &given);
                    inputs.dockerfile = Some(df);
                }
                Err(e) => inputs.notes.push(format!(
                    "cannot read the Dockerfile {}: {e}",
                    path.display()
                )),
            }
        }
        if let Some(ctx) = &self.context {
            match hash_context(ctx, self.limits, self.hash_cache.as_deref()) {
                Ok(m) => inputs.manifest = Some(m),
                Err(note) => inputs.notes.push(note),
            }
        }
        inputs
    }
}

/// Asks the image store, through the wrapped `docker` (`podman`, `nerdctl`) program itself, the
/// id of each base image; run after the build, which may have pulled them. A program that is
/// not one of those, or an image it does not hold (a remote builder), leaves the id unknown.
pub fn resolve_base_images(program: &OsString, inputs: &mut BuildInputs) {
    let name = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    if !matches!(name.as_deref(), Some("docker" | "podman" | "nerdctl")) {
        return;
    }
    for b in &mut inputs.base_images {
        let out = std::process::Command::new(program)
            .args(["image", "inspect", "--format", "{{.Id}}", &b.reference])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output();
        if let Some(out) = out.ok().filter(|o| o.status.success()) {
            let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
            b.id = id.starts_with("sha256:").then_some(id);
        }
    }
}

/// Inputs being gathered.
pub struct InputsJob {
    handle: Option<JoinHandle<(BuildInputs, Duration)>>,
}

impl InputsJob {
    pub fn finish(self) -> BuildInputs {
        self.finish_timed().0
    }

    /// The inputs, with how long gathering them took on their thread (`None` when it failed)
    /// and how long this call waited for it to end.
    pub fn finish_timed(self) -> (BuildInputs, Option<Duration>, Duration) {
        let waiting = Instant::now();
        match self.handle.map(|h| h.join()) {
            Some(Ok((inputs, took))) => (inputs, Some(took), waiting.elapsed()),
            _ => {
                let failed = BuildInputs {
                    notes: vec!["gathering the build's inputs failed".into()],
                    ..BuildInputs::default()
                };
                (failed, None, waiting.elapsed())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<OsString> {
        s.split_whitespace().map(OsString::from).collect()
    }

    #[test]
    fn reads_docker_build_command_lines() {
        let got = parse_build_command(&argv(
            "docker buildx build --progress=plain -t x:1 --build-arg BASE=b:2 --push -f ci/Dockerfile --build-arg=LEVEL --cache-from type=registry,ref=r proj",
        ))
        .unwrap();
        assert_eq!(got.context.as_deref(), Some("proj"));
        assert_eq!(got.dockerfile.as_deref(), Some("ci/Dockerfile"));
        assert_eq!(got.build_args, vec!["BASE=b:2", "LEVEL"]);
        let got = parse_build_command(&argv("/usr/bin/docker build .")).unwrap();
        assert_eq!(got.context.as_deref(), Some("."));
        assert!(parse_build_command(&argv("make image")).is_none());
        assert!(parse_build_command(&argv("docker run build")).is_none());
    }

    #[test]
    fn explicit_options_win_over_the_command_line() {
        let mut r = InputsRequest {
            context: Some("ctx".into()),
            build_args: vec!["BASE=x".into()],
            ..InputsRequest::default()
        };
        r.complete_from(&argv(
            "docker build --build-arg BASE=y --build-arg N=1 -f D other",
        ));
        assert_eq!(r.context, Some(PathBuf::from("ctx")));
        assert_eq!(r.dockerfile, Some(PathBuf::from("D")));
        assert_eq!(r.build_args, vec!["BASE=x", "N=1"]);
    }
}
