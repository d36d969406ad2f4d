//! `Spec`: what an experiment runs. Variants come from a small TOML file and/or `--variant`
//! command-line specs; the built-ins are `cold`, `warm` and `inline-cache`.
//!
//! ```toml
//! [experiment]                 # defaults; paths are relative to this file
//! reps = 3
//! context = "."
//! network = "none"
//! build_args = { PY = "3.12" }
//!
//! [[variant]]
//! name = "cold"                # a built-in, by name alone
//!
//! [[variant]]
//! name = "src-change"          # engine build: warm cache, a source file changed each time
//! base = "warm"
//! change = { append = "src/app.py" }
//!
//! [[variant]]
//! name = "max"                 # any build command, recorded as `buildprof record` does;
//!                              # it and `before` run in the context folder
//! before = ["docker", "buildx", "prune", "-af"]
//! command = ["docker", "buildx", "build", "--progress=plain",
//!            "--cache-to", "type=registry,ref=reg/app:max,mode=max",
//!            "--cache-from", "type=registry,ref=reg/app:max", "."]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// The whole experiment, after merging the file, the command line and the built-ins.
#[derive(Debug, Clone)]
pub struct Spec {
    pub id: Option<String>,
    pub reps: u32,
    pub context: PathBuf,
    pub dockerfile: Option<PathBuf>,
    pub target: Option<String>,
    pub network: Option<String>,
    pub build_args: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    pub variants: Vec<Variant>,
}

/// One variant of the matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub name: String,
    pub kind: VariantKind,
    /// Run before each build of this variant, not recorded (argv, no shell).
    pub before: Option<Vec<String>>,
    /// A file change applied before each build (simulates a commit).
    pub change: Option<FileChange>,
    /// Labels for this variant's builds, on top of the experiment's.
    pub labels: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum VariantKind {
    /// A build through the Engine API.
    Engine(EngineVariant),
    /// A whole build command, recorded as `buildprof record` records it.
    Command {
        argv: Vec<String>,
        env: Vec<(String, String)>,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineVariant {
    /// Prune all builder cache before each build (a cold builder).
    pub prune: bool,
    /// Build once with BUILDKIT_INLINE_CACHE=1, prune, then record a rebuild with cache-from
    /// that image.
    pub inline_cache: bool,
    pub no_cache: bool,
    pub cache_from: Vec<String>,
    pub build_args: Vec<(String, String)>,
    pub target: Option<String>,
    pub dockerfile: Option<PathBuf>,
}

/// A change to a file of the build context before each build.
#[derive(Debug, Clone, PartialEq)]
pub enum FileChange {
    /// Set its modification time (BuildKit keys on content: this measures the context scan).
    Touch(PathBuf),
    /// Append a line that differs every run (a real content change: busts the cache from the
    /// COPY that takes the file). `{experiment}`, `{variant}` and `{rep}` are substituted.
    Append { path: PathBuf, text: String },
}

impl FileChange {
    pub fn path(&self) -> &Path {
        match self {
            FileChange::Touch(p) => p,
            FileChange::Append { path, .. } => path,
        }
    }
}

const DEFAULT_APPEND: &str = "\n# buildprof experiment {experiment} variant {variant} rep {rep}\n";
pub const BUILTINS: [&str; 3] = ["cold", "warm", "inline-cache"];

fn builtin(name: &str) -> Option<EngineVariant> {
    match name {
        "cold" => Some(EngineVariant {
            prune: true,
            ..EngineVariant::default()
        }),
        "warm" => Some(EngineVariant::default()),
        "inline-cache" => Some(EngineVariant {
            inline_cache: true,
            ..EngineVariant::default()
        }),
        _ => None,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    #[serde(default)]
    experiment: Defaults,
    #[serde(default, rename = "variant")]
    variants: Vec<VariantFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    id: Option<String>,
    reps: Option<u32>,
    context: Option<PathBuf>,
    dockerfile: Option<PathBuf>,
    target: Option<String>,
    network: Option<String>,
    #[serde(default)]
    build_args: BTreeMap<String, String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct VariantFile {
    name: String,
    base: Option<String>,
    prune: Option<bool>,
    inline_cache: Option<bool>,
    no_cache: Option<bool>,
    #[serde(default)]
    cache_from: Vec<String>,
    #[serde(default)]
    build_args: BTreeMap<String, String>,
    target: Option<String>,
    dockerfile: Option<PathBuf>,
    change: Option<ChangeFile>,
    command: Option<Vec<String>>,
    before: Option<Vec<String>>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeFile {
    touch: Option<PathBuf>,
    append: Option<PathBuf>,
    text: Option<String>,
}

/// Command-line values that override the file's.
#[derive(Debug, Default)]
pub struct Overrides {
    pub id: Option<String>,
    pub reps: Option<u32>,
    pub context: Option<PathBuf>,
    pub dockerfile: Option<PathBuf>,
    pub target: Option<String>,
    pub network: Option<String>,
    pub build_args: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    pub variants: Vec<String>,
}

impl Spec {
    /// Reads the spec file (if any) and applies the command line on top.
    pub fn load(file: Option<&Path>, cli: Overrides) -> Result<Spec> {
        let (parsed, base_dir) = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read the spec {}", p.display()))?;
                let parsed: SpecFile =
                    toml::from_str(&text).with_context(|| format!("spec {}", p.display()))?;
                let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
                let dir = if dir.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    dir
                };
                (parsed, dir)
            }
            None => (SpecFile::default(), PathBuf::from(".")),
        };
        let d = parsed.experiment;
        let mut build_args: Vec<(String, String)> = d.build_args.into_iter().collect();
        for (k, v) in cli.build_args {
            build_args.retain(|(bk, _)| *bk != k);
            build_args.push((k, v));
        }
        let mut labels: Vec<(String, String)> = d.labels.into_iter().collect();
        labels.extend(cli.labels);
        let mut variants = Vec::new();
        for v in parsed.variants {
            variants.push(variant_from_file(v, &base_dir)?);
        }
        for s in &cli.variants {
            variants.push(parse_cli_variant(s)?);
        }
        if variants.is_empty() {
            bail!(
                "no variants: give --variant (e.g. --variant cold --variant warm) or a --spec file"
            );
        }
        let mut seen = std::collections::HashSet::new();
        for v in &variants {
            if !seen.insert(v.name.as_str()) {
                bail!("variant {:?} is given twice", v.name);
            }
        }
        let reps = cli.reps.or(d.reps).unwrap_or(3);
        if reps == 0 {
            bail!("--reps must be at least 1");
        }
        let context = cli
            .context
            .or_else(|| d.context.map(|c| base_dir.join(c)))
            .unwrap_or_else(|| base_dir.clone());
        if !context.is_dir() {
            bail!(
                "the experiment's context {} is not a folder (set `context` in the spec, relative to it, or --context)",
                context.display()
            );
        }
        Ok(Spec {
            id: cli.id.or(d.id),
            reps,
            context,
            dockerfile: cli
                .dockerfile
                .or_else(|| d.dockerfile.map(|f| base_dir.join(f))),
            target: cli.target.or(d.target),
            network: cli.network.or(d.network),
            build_args,
            labels,
            variants,
        })
    }

    /// Whether any variant builds through the Engine API (then the engine must be reachable).
    pub fn needs_engine(&self) -> bool {
        self.variants
            .iter()
            .any(|v| matches!(v.kind, VariantKind::Engine(_)))
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!("variant name {name:?}: use letters, digits, `-`, `_` and `.`");
    }
    Ok(())
}

fn variant_from_file(v: VariantFile, base_dir: &Path) -> Result<Variant> {
    check_name(&v.name)?;
    let change = match v.change {
        None => None,
        Some(c) => Some(match (c.touch, c.append) {
            (Some(p), None) => FileChange::Touch(p),
            (None, Some(p)) => FileChange::Append {
                path: p,
                text: c.text.unwrap_or_else(|| DEFAULT_APPEND.to_string()),
            },
            _ => bail!(
                "variant {:?}: change takes one of touch = \"PATH\" or append = \"PATH\"",
                v.name
            ),
        }),
    };
    let labels = v.labels.into_iter().collect();
    if let Some(argv) = v.command {
        let engine_only = v.base.is_some()
            || v.prune.is_some()
            || v.inline_cache.is_some()
            || v.no_cache.is_some()
            || !v.cache_from.is_empty()
            || !v.build_args.is_empty()
            || v.target.is_some()
            || v.dockerfile.is_some();
        if engine_only {
            bail!("variant {:?}: a `command` variant takes only before, env, change and labels (put build options in the command itself)", v.name);
        }
        if argv.is_empty() {
            bail!("variant {:?}: command is empty", v.name);
        }
        return Ok(Variant {
            name: v.name,
            kind: VariantKind::Command {
                argv,
                env: v.env.into_iter().collect(),
            },
            before: v.before,
            change,
            labels,
        });
    }
    if !v.env.is_empty() {
        bail!("variant {:?}: env applies to command variants only", v.name);
    }
    let base_name = v.base.as_deref().unwrap_or_else(|| {
        if BUILTINS.contains(&v.name.as_str()) {
            v.name.as_str()
        } else {
            "warm"
        }
    });
    let Some(mut e) = builtin(base_name) else {
        bail!(
            "variant {:?}: base {base_name:?} is not one of {}",
            v.name,
            BUILTINS.join(", ")
        );
    };
    if let Some(p) = v.prune {
        e.prune = p;
    }
    if let Some(i) = v.inline_cache {
        e.inline_cache = i;
    }
    e.no_cache = v.no_cache.unwrap_or(false);
    e.cache_from = v.cache_from;
    e.build_args = v.build_args.into_iter().collect();
    e.target = v.target;
    e.dockerfile = v.dockerfile.map(|f| base_dir.join(f));
    Ok(Variant {
        name: v.name,
        kind: VariantKind::Engine(e),
        before: v.before,
        change,
        labels,
    })
}

/// `NAME` (a built-in) or `NAME:OPTION,...`.
pub fn parse_cli_variant(s: &str) -> Result<Variant> {
    let (name, opts) = match s.split_once(':') {
        Some((n, o)) => (n, Some(o)),
        None => (s, None),
    };
    check_name(name)?;
    let mut e = match (builtin(name), opts) {
        (Some(b), _) => b,
        (None, Some(_)) => EngineVariant::default(),
        (None, None) => bail!(
            "unknown variant {name:?}: the built-ins are {}; others take options, e.g. `{name}:no-cache`",
            BUILTINS.join(", ")
        ),
    };
    let mut change = None;
    for opt in opts
        .into_iter()
        .flat_map(|o| o.split(','))
        .filter(|o| !o.is_empty())
    {
        let (key, value) = match opt.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (opt, None),
        };
        match (key, value) {
            ("cold" | "prune", None) => e.prune = true,
            ("warm", None) => e.prune = false,
            ("inline-cache", None) => e.inline_cache = true,
            ("no-cache", None) => e.no_cache = true,
            ("cache-from", Some(v)) => e.cache_from.push(v.to_string()),
            ("build-arg", Some(v)) => match v.split_once('=') {
                Some((k, v)) if !k.is_empty() => e.build_args.push((k.into(), v.into())),
                _ => bail!("variant {name:?}: build-arg={v} is not build-arg=KEY=VALUE"),
            },
            ("target", Some(v)) => e.target = Some(v.to_string()),
            ("file", Some(v)) => e.dockerfile = Some(PathBuf::from(v)),
            ("touch", Some(v)) => change = Some(FileChange::Touch(v.into())),
            ("append", Some(v)) => {
                change = Some(FileChange::Append {
                    path: v.into(),
                    text: DEFAULT_APPEND.to_string(),
                })
            }
            _ => bail!("variant {name:?}: unknown option {opt:?} (options: cold, warm, inline-cache, no-cache, cache-from=IMAGE, build-arg=K=V, target=T, file=DOCKERFILE, touch=PATH, append=PATH)"),
        }
    }
    Ok(Variant {
        name: name.to_string(),
        kind: VariantKind::Engine(e),
        before: None,
        change,
        labels: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml_text: &str, cli: Overrides) -> Result<Spec> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("exp.toml");
        std::fs::write(&p, toml_text).unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        Spec::load(Some(&p), cli)
    }

    #[test]
    fn builtins_by_name() {
        let v = parse_cli_variant("cold").unwrap();
        assert_eq!(
            v.kind,
            VariantKind::Engine(EngineVariant {
                prune: true,
                ..Default::default()
            })
        );
        assert!(parse_cli_variant("lukewarm").is_err());
        let v = parse_cli_variant("bust:warm,append=src/a.txt,build-arg=A=1,cache-from=img:main")
            .unwrap();
        let VariantKind::Engine(e) = &v.kind else {
            panic!()
        };
        assert_eq!(e.build_args, vec![("A".into(), "1".into())]);
        assert_eq!(e.cache_from, vec!["img:main".to_string()]);
        assert!(matches!(v.change, Some(FileChange::Append { .. })));
    }

    #[test]
    fn file_variants_and_cli_overrides() {
        let spec = load(
            r#"
[experiment]
reps = 5
context = "app"
network = "none"
build_args = { A = "file", B = "file" }

[[variant]]
name = "cold"

[[variant]]
name = "branch"
cache_from = ["reg/app:main", "reg/app:feature"]
change = { append = "src/main.c", text = "// {rep}\n" }

[[variant]]
name = "max"
before = ["docker", "buildx", "prune", "-af"]
command = ["docker", "buildx", "build", "--progress=plain", "."]
env = { BUILDX_BUILDER = "warm" }
"#,
            Overrides {
                reps: Some(2),
                build_args: vec![("A".into(), "cli".into())],
                variants: vec!["warm".into()],
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(spec.reps, 2);
        assert!(spec.context.ends_with("app"));
        assert_eq!(
            spec.build_args,
            vec![("B".into(), "file".into()), ("A".into(), "cli".into())]
        );
        let names: Vec<_> = spec.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["cold", "branch", "max", "warm"]);
        assert!(matches!(
            &spec.variants[2].kind,
            VariantKind::Command { env, .. } if env[0].0 == "BUILDX_BUILDER"
        ));
        assert!(spec.needs_engine());
    }

    #[test]
    fn mistakes_are_named() {
        let e = load(
            "[[variant]]\nname = \"x\"\nprune = true\ncommand = [\"true\"]\n",
            Overrides::default(),
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("command"), "{e:#}");
        let e = load(
            "[[variant]]\nname = \"x\"\nbogus = 1\n",
            Overrides::default(),
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("bogus"), "{e:#}");
        let e = Spec::load(None, Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("no variants"));
        let e = Spec::load(
            None,
            Overrides {
                variants: vec!["warm".into(), "warm".into()],
                ..Overrides::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("twice"));
    }
}
