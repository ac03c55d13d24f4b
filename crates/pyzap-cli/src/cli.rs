//! The command line, as clap types: what a newcomer sees in `--help`; and
//! the option structs of `pyzap-bundle` made from them.

use std::path::PathBuf;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use pyzap_bundle::{BundleOptions, FormatOption, LockOptions, SourceOptions, StandaloneOptions};

#[derive(Parser, Debug)]
#[command(
    name = "pyzap",
    version = env!("PYZAP_VERSION"),
    about = "Turn a Python application and its dependencies into one file you copy to a server and run",
    long_about = "pyzap resolves your requirements, lays every wheel into a zip application \
(a .pyz, PEP 441) with a small bootstrap, and writes one executable file. Pure-Python code runs \
straight from the zip; distributions with native code or package data are unpacked once into a \
per-user cache on first run.\n\nExample:\n  pyzap build black -c black -f ./wheels --no-index -o black.pyz\n  ./black.pyz --version"
)]
pub(crate) struct Cli {
    /// More output: -v pyzap's steps, -vv its debug lines, -vvv also the
    /// libraries' (HTTP, TLS); default: warnings and the summary
    #[arg(short, long, action = clap::ArgAction::Count, global = true, help_heading = VERBOSITY)]
    pub verbose: u8,
    /// Only errors
    #[arg(short, long, global = true, help_heading = VERBOSITY)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the command line (exiting on a usage error) and records the
    /// order of `--no-binary` / `--only-binary`, which pip applies in turn.
    pub(crate) fn parse_ordered() -> Self {
        let matches = Self::command().get_matches();
        let mut cli = Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        if let Some((_, sub)) = matches.subcommand() {
            match &mut cli.command {
                Command::Build(args) => {
                    args.source.binary_order = Some(binary_options_in_order(sub));
                }
                Command::Lock(args) => {
                    args.source.binary_order = Some(binary_options_in_order(sub));
                }
                _ => {}
            }
        }
        cli
    }
}

fn binary_options_in_order(matches: &ArgMatches) -> Vec<(FormatOption, String)> {
    let mut given = Vec::new();
    for (id, option) in [
        ("no_binary", FormatOption::NoBinary),
        ("only_binary", FormatOption::OnlyBinary),
    ] {
        if let (Some(indices), Some(values)) =
            (matches.indices_of(id), matches.get_many::<String>(id))
        {
            given.extend(indices.zip(values).map(|(i, v)| (i, option, v.clone())));
        }
    }
    given.sort_by_key(|(i, _, _)| *i);
    given.into_iter().map(|(_, o, v)| (o, v)).collect()
}

// The headings `pyzap build --help` groups its options under.
const INPUTS: &str = "Inputs";
const INDEX: &str = "Index";
const TARGET: &str = "Target";
const ENTRY_POINT: &str = "Entry point";
const OUTPUT: &str = "Output";
const STANDALONE: &str = "Standalone";
const VERBOSITY: &str = "Output verbosity";

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Build a .pyz artifact from requirements, a project directory or wheels
    Build(Box<BuildArgs>),
    /// Resolve requirements for one target or several and write a PEP 751 lock file (pylock.toml)
    Lock(Box<LockArgs>),
    /// The build cache and the apps' runtime cache: where they are, what they hold, dropping what was not used lately
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
    /// Describe an artifact: entry point, target Python, bundled distributions
    Info {
        /// The artifact to describe
        artifact: PathBuf,
        /// Print the manifest as JSON
        #[arg(long)]
        json: bool,
    },
    /// Write systemd units that serve an artifact through socket activation, sandboxed
    Systemd(Box<crate::systemd::SystemdArgs>),
    /// Make a .snap of an artifact: one app per console script, the runtime cache under $SNAP_USER_COMMON
    Snap(Box<crate::snap::SnapArgs>),
    /// Unpack an artifact into a directory, to inspect or edit it (repack with `python -m zipapp`)
    Extract {
        /// The artifact to unpack
        artifact: PathBuf,
        /// Where to put its files (must not exist, or be empty)
        outdir: PathBuf,
    },
    /// Print a shell completion script (bash: `pyzap completions bash > /etc/bash_completion.d/pyzap`)
    Completions {
        /// The shell to complete in
        shell: clap_complete::Shell,
    },
    /// Print the man page of pyzap, or of one command, in roff (`pyzap man build | man -l -`)
    Man {
        /// The command whose page to print (`build`, `lock`, …); default: pyzap's own
        command: Option<String>,
    },
}

/// What to resolve and where to find it: the options `pyzap build` and
/// `pyzap lock` share, so both resolve alike.
#[derive(Args, Debug)]
pub(crate) struct SourceArgs {
    /// What to bundle (or lock): requirement specs (`black`, `flask>=3`, `requests[socks]`),
    /// direct references (`app @ https://host/app-1.0-py3-none-any.whl`, `app @ file:///…`,
    /// `app @ git+https://host/app.git@v1`), `git+URL[@REF]` sources, paths (with `./` or `/`)
    /// of a project directory (`.`, `./proj[server]`), wheels or sdists, or a PEP 723 script (`tool.py`)
    #[arg(help_heading = INPUTS)]
    pub inputs: Vec<String>,
    /// Read requirements from a file (pip's requirements.txt format); repeatable
    #[arg(short = 'r', long = "requirement", value_name = "FILE", help_heading = INPUTS)]
    pub requirements: Vec<PathBuf>,
    /// Constrain versions with a file (pip's constraints format); repeatable
    #[arg(long = "constraint", value_name = "FILE", help_heading = INPUTS)]
    pub constraints: Vec<PathBuf>,
    /// Add a PEP 735 dependency group of a pyproject.toml (pip's syntax): PATH defaults
    /// to the only local project's pyproject.toml, else ./pyproject.toml; repeatable
    #[arg(long = "group", value_name = "[PATH:]NAME", help_heading = INPUTS)]
    pub groups: Vec<String>,
    /// Look for wheels and sdists in this directory or HTML page of links; repeatable
    /// (also `PIP_FIND_LINKS`, space-separated)
    #[arg(short = 'f', long = "find-links", value_name = "DIR_OR_URL", help_heading = INDEX)]
    pub find_links: Vec<String>,
    /// The package index (PEP 503/691 simple API); default `https://pypi.org/simple/`
    /// (also `PIP_INDEX_URL`, `UV_INDEX_URL`)
    #[arg(short = 'i', long = "index-url", value_name = "URL", help_heading = INDEX)]
    pub index_url: Option<String>,
    /// Another index to search as well; repeatable (also `PIP_EXTRA_INDEX_URL`, space-separated)
    #[arg(long = "extra-index-url", value_name = "URL", help_heading = INDEX)]
    pub extra_index_url: Vec<String>,
    /// Use no package index: only --find-links locations
    #[arg(long, help_heading = INDEX)]
    pub no_index: bool,
    /// Make no network request: use only what the cache holds
    #[arg(long, help_heading = INDEX)]
    pub offline: bool,
    /// pip's hash-checking mode: every requirement pinned with `==` and given
    /// `--hash`es in a requirements file, dependencies included (on by itself
    /// when any requirement has a `--hash`)
    #[arg(long, help_heading = INPUTS)]
    pub require_hashes: bool,
    /// The target interpreter (name on PATH or path); default `python3`
    #[arg(long, value_name = "PYTHON", help_heading = TARGET)]
    pub python: Option<String>,
    /// Allow pre-releases (default: only when nothing else satisfies a requirement, as in pip)
    #[arg(long, help_heading = INDEX)]
    pub pre: bool,
    /// Refuse to build sdists; only wheels are used
    #[arg(long, help_heading = INDEX)]
    pub no_build: bool,
    /// Use these projects' sdists, never their wheels (pip's syntax: comma-separated
    /// names, `:all:` or `:none:`); repeatable, also a requirements-file line
    #[arg(long = "no-binary", value_name = "NAMES", help_heading = INDEX)]
    pub no_binary: Vec<String>,
    /// Never use these projects' sdists (names, `:all:` or `:none:`); a name
    /// beats `:all:`, and a later option overrides an earlier one, as in pip
    #[arg(long = "only-binary", value_name = "NAMES", help_heading = INDEX)]
    pub only_binary: Vec<String>,
    /// Both options in command-line order, when known (`Cli::parse_ordered`).
    #[arg(skip)]
    pub binary_order: Option<Vec<(FormatOption, String)>>,
}

#[derive(Args, Debug)]
pub(crate) struct BuildArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Put a plain source directory's files into the artifact root as they are
    /// (the stdlib zipapp workflow); its __main__.py is the entry point when none is given
    #[arg(long = "src", value_name = "DIR", help_heading = INPUTS)]
    pub src: Vec<PathBuf>,
    /// Install exactly the distributions of this PEP 751 lock file (from `pyzap lock`):
    /// no resolution, every file checked against the lock's sha256
    #[arg(long, value_name = "PYLOCK_TOML", conflicts_with_all = ["inputs", "requirements", "constraints", "groups"], help_heading = INPUTS)]
    pub lock: Option<PathBuf>,
    /// Console script to run (from any bundled distribution's entry points);
    /// default: the entry script (--src's __main__.py, a PEP 723 script), else
    /// the only console script of the project or single requirement
    #[arg(
        short = 'c',
        long = "console-script",
        value_name = "NAME",
        conflicts_with = "entry_point",
        help_heading = ENTRY_POINT
    )]
    pub console_script: Option<String>,
    /// Entry point as `module` (run like `python -m`) or `module:function`
    #[arg(
        short = 'e',
        long = "entry-point",
        value_name = "MODULE[:FUNCTION]",
        help_heading = ENTRY_POINT
    )]
    pub entry_point: Option<String>,
    /// Build for CPython X.Y (or X.Y.Z) without that interpreter here;
    /// repeatable: several versions (or platforms) make one artifact whose
    /// bootstrap picks the right native wheels at run time. Only wheels are used
    /// (as pip's --python-version needs --only-binary); --python, when it is
    /// this version, precompiles the bytecode; default: the version of --python.
    /// With --standalone: the version of the CPython to bundle (one)
    #[arg(
        long = "python-version",
        value_name = "X.Y",
        conflicts_with = "python_dist",
        help_heading = TARGET
    )]
    pub python_versions: Vec<String>,
    /// Build for this platform tag (`manylinux_2_28_x86_64` also accepts older
    /// manylinux wheels; `musllinux_1_2_x86_64`, `linux_x86_64`); repeatable;
    /// default the build machine's. With --standalone: the platform of the
    /// CPython to bundle (one)
    #[arg(
        long = "platform",
        value_name = "TAG",
        conflicts_with = "python_dist",
        help_heading = TARGET
    )]
    pub platforms: Vec<String>,
    /// Shebang line, taken literally (`/usr/bin/python3` stays `/usr/bin/python3`);
    /// default `/usr/bin/env python3.X` for a target of version 3.X
    /// (`python3` when the targets are of several versions)
    #[arg(
        short = 'p',
        long = "shebang",
        value_name = "INTERPRETER",
        help_heading = OUTPUT
    )]
    pub shebang: Option<String>,
    /// Where to write the artifact (required, unless the project's
    /// pyproject.toml names it: `output` in [tool.pyzap])
    #[arg(short = 'o', long = "output", value_name = "FILE", help_heading = OUTPUT)]
    pub output: Option<PathBuf>,
    /// Do not precompile bytecode (smaller, slower first imports); default:
    /// bytecode for each target whose interpreter is here
    #[arg(long, help_heading = OUTPUT)]
    pub no_compile: bool,
    /// Print a JSON summary on stdout once built: path, sha256, size,
    /// distributions, entry point, targets
    #[arg(long, help_heading = OUTPUT)]
    pub json: bool,
    /// Build a standalone executable that runs where no Python is installed:
    /// a launcher, a CPython, then the zip a .pyz holds. The CPython is
    /// --python-dist's, else one of the target's version (--python-version,
    /// else --python's) and platform: a CPython uv installed, else
    /// python-build-standalone's build from pyzap's table, downloaded and
    /// checked by its sha256 (PYZAP_PYTHON_MIRROR replaces
    /// https://github.com/astral-sh/python-build-standalone/releases/download)
    #[arg(long, help_heading = STANDALONE)]
    pub standalone: bool,
    /// The CPython to bundle (with --standalone): a python-build-standalone
    /// `install_only` archive (.tar.gz, .tar.zst), a URL to one, or an extracted
    /// relocatable CPython directory. It is also the build target; default:
    /// the one chosen for the target (see --standalone)
    #[arg(
        long,
        value_name = "ARCHIVE_URL_OR_DIR",
        requires = "standalone",
        conflicts_with = "python",
        help_heading = STANDALONE
    )]
    pub python_dist: Option<String>,
    /// The sha256 the --python-dist archive must have (a URL may carry it
    /// as a `#sha256=` fragment instead)
    #[arg(
        long,
        value_name = "HEX",
        requires = "python_dist",
        help_heading = STANDALONE
    )]
    pub python_dist_sha256: Option<String>,
    /// Keep the whole CPython of --python-dist (by default the stdlib's test
    /// suites, idlelib, tkinter and Tcl/Tk, ensurepip, pydoc_data, C headers,
    /// man pages, its own site-packages and other versions' bytecode are
    /// left out)
    #[arg(long, requires = "standalone", help_heading = STANDALONE)]
    pub no_strip_stdlib: bool,
    /// Ship the stdlib's .py sources too (by default each stdlib module is
    /// shipped as bytecode only: a smaller executable and a faster first
    /// run, but tracebacks through the stdlib show no line text)
    #[arg(long, requires = "standalone", help_heading = STANDALONE)]
    pub stdlib_sources: bool,
    /// The launcher stub to put first (default: the static one pyzap carries)
    #[arg(
        long,
        value_name = "FILE",
        requires = "standalone",
        help_heading = STANDALONE
    )]
    pub launcher: Option<PathBuf>,
}

/// `pyzap lock`: the inputs and sources of `pyzap build`, its targets, and
/// where to write.
#[derive(Args, Debug)]
pub(crate) struct LockArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Lock for CPython X.Y (or X.Y.Z) without that interpreter here;
    /// repeatable: each version × --platform is an environment of one
    /// universal lock, whose packages carry markers. Only wheels are locked;
    /// default: the version of --python
    #[arg(long = "python-version", value_name = "X.Y", help_heading = TARGET)]
    pub python_versions: Vec<String>,
    /// Lock for this platform tag (`manylinux_2_28_x86_64`,
    /// `musllinux_1_2_aarch64`, `linux_x86_64`); repeatable; default the
    /// build machine's
    #[arg(long = "platform", value_name = "TAG", help_heading = TARGET)]
    pub platforms: Vec<String>,
    /// Where to write the lock file
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "pylock.toml",
        help_heading = OUTPUT
    )]
    pub output: PathBuf,
    /// Print a JSON summary on stdout once written: path, sha256, size,
    /// distributions, targets
    #[arg(long, help_heading = OUTPUT)]
    pub json: bool,
}

impl SourceArgs {
    /// `--no-binary` / `--only-binary` values in the order given (without a
    /// recorded order: every --no-binary, then every --only-binary).
    fn binary_options(&self) -> Vec<(FormatOption, String)> {
        self.binary_order.clone().unwrap_or_else(|| {
            let no = self
                .no_binary
                .iter()
                .map(|v| (FormatOption::NoBinary, v.clone()));
            let only = self
                .only_binary
                .iter()
                .map(|v| (FormatOption::OnlyBinary, v.clone()));
            no.chain(only).collect()
        })
    }

    pub(crate) fn options(&self) -> SourceOptions {
        SourceOptions {
            inputs: self.inputs.clone(),
            requirements: self.requirements.clone(),
            constraints: self.constraints.clone(),
            groups: self.groups.clone(),
            find_links: self.find_links.clone(),
            index_url: self.index_url.clone(),
            extra_index_urls: self.extra_index_url.clone(),
            no_index: self.no_index,
            offline: self.offline,
            require_hashes: self.require_hashes,
            python: self.python.clone(),
            pre: self.pre,
            no_build: self.no_build,
            binary_options: self.binary_options(),
        }
    }
}

impl BuildArgs {
    pub(crate) fn options(&self, cache_dir: PathBuf) -> BundleOptions {
        BundleOptions {
            source: self.source.options(),
            src: self.src.clone(),
            lock: self.lock.clone(),
            console_script: self.console_script.clone(),
            entry_point: self.entry_point.clone(),
            python_versions: self.python_versions.clone(),
            platforms: self.platforms.clone(),
            shebang: self.shebang.clone(),
            output: self.output.clone().unwrap_or_default(),
            no_compile: self.no_compile,
            // Without --python-dist the pipeline chooses the CPython, from
            // the sources its environment names (`PythonSources::from_env`).
            standalone: self.standalone.then(|| StandaloneOptions {
                python_dist: self.python_dist.clone().unwrap_or_default(),
                python_dist_sha256: self.python_dist_sha256.clone(),
                python_sources: None,
                strip_stdlib: !self.no_strip_stdlib,
                stdlib_sources: self.stdlib_sources,
                payload_level: None,
                launcher: self.launcher.clone(),
            }),
            cache_dir,
        }
    }
}

impl LockArgs {
    pub(crate) fn options(&self, cache_dir: PathBuf) -> LockOptions {
        LockOptions {
            source: self.source.options(),
            python_versions: self.python_versions.clone(),
            platforms: self.platforms.clone(),
            output: self.output.clone(),
            cache_dir,
        }
    }
}

#[derive(Subcommand, Debug)]
pub(crate) enum CacheCommand {
    /// Print the build cache's path (with --runtime, the apps' runtime cache's)
    Dir {
        #[command(flatten)]
        runtime: RuntimeArgs,
    },
    /// Remove the build cache's entries (the apps' runtime cache is kept)
    Clean,
    /// Remove build-cache entries not used for --days days and leftovers of killed builds;
    /// with --runtime, the apps' trees instead (never one a running process uses)
    Prune {
        /// Age in days after which an unused entry goes
        #[arg(long, default_value_t = 30)]
        days: u64,
        #[command(flatten)]
        runtime: RuntimeArgs,
    },
    /// List the apps' runtime cache: per app its trees (site, venv, python), their size,
    /// last use and the processes using them; then trees of no app and leftovers
    List {
        /// The runtime cache to list (default: the one apps use: $PYZAP_ROOT,
        /// $CACHE_DIRECTORY/pyzap, /var/cache/pyzap for root, $XDG_CACHE_HOME/pyzap, ~/.cache/pyzap)
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
}

/// The choice of the apps' runtime cache over the build cache.
#[derive(Args, Debug)]
pub(crate) struct RuntimeArgs {
    /// Act on the apps' runtime cache, where artifacts unpack, instead of the build cache
    #[arg(long)]
    pub runtime: bool,
    /// The runtime cache to act on (default: the one apps use: $PYZAP_ROOT,
    /// $CACHE_DIRECTORY/pyzap, /var/cache/pyzap for root, $XDG_CACHE_HOME/pyzap, ~/.cache/pyzap)
    #[arg(long, value_name = "DIR", requires = "runtime")]
    pub root: Option<PathBuf>,
}
