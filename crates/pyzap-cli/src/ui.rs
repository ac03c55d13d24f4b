//! What the user sees while pyzap works: step lines with `-v`, a summary
//! unless `-q`, and a spinner on a terminal (never in CI logs).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Ui {
    verbose: u8,
    quiet: bool,
    spinner: Option<ProgressBar>,
}

impl Ui {
    pub fn new(verbose: u8, quiet: bool) -> Self {
        let spinner = (!quiet
            && verbose == 0
            && std::io::stderr().is_terminal()
            && std::env::var_os("CI").is_none())
        .then(|| {
            let pb = ProgressBar::new_spinner();
            pb.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
            pb.enable_steady_tick(std::time::Duration::from_millis(80));
            pb
        });
        Ui {
            verbose,
            quiet,
            spinner,
        }
    }

    /// A step of long work: on the spinner, or a line with -v.
    pub fn step(&self, msg: &str) {
        if let Some(pb) = &self.spinner {
            pb.set_message(msg.to_string());
        } else if self.verbose > 0 {
            eprintln!("pyzap: {msg}");
        }
    }

    /// Something the user should read (auto-detected entry point, the summary).
    pub fn info(&self, msg: &str) {
        if self.quiet {
            return;
        }
        match &self.spinner {
            Some(pb) => pb.println(msg),
            None => eprintln!("{msg}"),
        }
    }

    pub fn finish(&self) {
        if let Some(pb) = &self.spinner {
            pb.finish_and_clear();
        }
    }
}
