//! What the user sees while pyzap works: step lines with `-v`, a summary
//! unless `-q`, and a spinner and download bars on a terminal (never in CI
//! logs). `Ui` is the pipeline's `Reporter`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use pyzap_bundle::{DownloadReporter, Reporter};

pub(crate) struct Ui {
    verbose: u8,
    quiet: bool,
    spinner: Option<ProgressBar>,
    multi: MultiProgress,
    /// A bar per download while it runs, when the spinner is shown.
    bars: Mutex<HashMap<String, ProgressBar>>,
    /// The file the command wrote, once complete (`--json` reads it back).
    written: Mutex<Option<PathBuf>>,
}

impl Ui {
    pub(crate) fn new(verbose: u8, quiet: bool) -> Self {
        let multi = MultiProgress::new();
        let spinner = (!quiet
            && verbose == 0
            && std::io::stderr().is_terminal()
            && std::env::var_os("CI").is_none())
        .then(|| {
            let pb = multi.add(ProgressBar::new_spinner());
            pb.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
            pb.enable_steady_tick(std::time::Duration::from_millis(80));
            pb
        });
        Ui {
            verbose,
            quiet,
            spinner,
            multi,
            bars: Mutex::default(),
            written: Mutex::default(),
        }
    }

    /// The file the command reported complete, if any.
    pub(crate) fn written(&self) -> Option<PathBuf> {
        lock(&self.written).clone()
    }

    pub(crate) fn finish(&self) {
        if let Some(pb) = &self.spinner {
            pb.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

#[allow(
    clippy::print_stderr,
    reason = "the CLI's reporter: off a terminal, progress and messages are lines on stderr"
)]
impl Reporter for Ui {
    /// A step of long work: on the spinner, or a line with -v.
    fn step(&self, msg: &str) {
        if let Some(pb) = &self.spinner {
            pb.set_message(msg.to_string());
        } else if self.verbose > 0 {
            eprintln!("pyzap: {msg}");
        }
    }

    /// A detail: a line with -v.
    fn detail(&self, msg: &str) {
        if self.verbose > 0 && !self.quiet {
            eprintln!("pyzap: {msg}");
        }
    }

    /// Something the user should read (auto-detected entry point, the summary).
    fn info(&self, msg: &str) {
        if self.quiet {
            return;
        }
        match &self.spinner {
            Some(pb) => pb.println(msg),
            None => eprintln!("{msg}"),
        }
    }

    fn wrote(&self, path: &Path) {
        *lock(&self.written) = Some(path.to_path_buf());
    }
}

/// Download progress as indicatif bars under the spinner; nothing off a terminal.
impl DownloadReporter for Ui {
    fn started(&self, filename: &str, size: Option<u64>) {
        if self.spinner.is_none() {
            return;
        }
        let pb = self.multi.add(match size {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        });
        pb.set_style(
            ProgressStyle::with_template(
                "  {msg:40!} {bar:30} {bytes:>10}/{total_bytes:10} {bytes_per_sec}",
            )
            .expect("valid template"),
        );
        pb.set_message(filename.to_string());
        lock(&self.bars).insert(filename.to_string(), pb);
    }

    fn progress(&self, filename: &str, bytes: u64) {
        if let Some(pb) = lock(&self.bars).get(filename) {
            pb.set_position(bytes);
        }
    }

    fn finished(&self, filename: &str) {
        if let Some(pb) = lock(&self.bars).remove(filename) {
            pb.finish_and_clear();
            self.multi.remove(&pb);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
