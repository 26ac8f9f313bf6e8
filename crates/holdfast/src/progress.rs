//! The command line's view of a running scan: notes and warnings on stderr, and a
//! progress bar for registry scans when stderr is a terminal.

use std::error::Error;
use std::io::IsTerminal;
use std::sync::Mutex;

use holdfast_scan::{ProgressSink, ScanEvent};

/// Prints scan events on stderr; `quiet` keeps only what must not go unseen.
pub struct CliProgress {
    quiet: bool,
    bar: Mutex<Option<indicatif::ProgressBar>>,
}

impl CliProgress {
    /// A sink for one command.
    pub fn new(quiet: bool) -> Self {
        CliProgress {
            quiet,
            bar: Mutex::new(None),
        }
    }

    /// Removes the progress bar, before the results are written.
    pub fn finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }

    fn with_bar(&self, f: impl FnOnce(&indicatif::ProgressBar)) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            f(bar);
        }
    }
}

/// The bar for a registry of `len` images; hidden unless stderr is a terminal.
fn progress_bar(len: usize, quiet: bool) -> indicatif::ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} images  {wide_msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

impl ProgressSink for CliProgress {
    fn event(&self, event: &ScanEvent<'_>) {
        match *event {
            ScanEvent::DemoDatabase {
                expected,
                advisories,
            } if !self.quiet => eprintln!(
                "note: no vulnerability database at {}; matching against the {advisories} bundled demo advisories only. Build a real one with `holdfast db build --from OSV_DIR` or pass --db",
                expected.display()
            ),
            ScanEvent::StaleDatabase { days } if !self.quiet => eprintln!(
                "warning: the vulnerability database is {days} days old; rebuild it for current advisories"
            ),
            ScanEvent::RegistrySelected { images, .. } => {
                *self.bar.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(progress_bar(images, self.quiet));
            }
            ScanEvent::TargetStarted { name } => self.with_bar(|b| b.set_message(name.to_string())),
            ScanEvent::TargetFinished { fleet: true, .. } | ScanEvent::TargetFailed { .. } => {
                self.with_bar(|b| b.inc(1))
            }
            ScanEvent::TargetFinished {
                result, filtered, ..
            } if !self.quiet => {
                if !result.warnings.is_empty() {
                    eprintln!(
                        "warning: {} item(s) in `{}` were skipped or unreadable; they are listed in the report",
                        result.warnings.len(),
                        result.name
                    );
                }
                if filtered > 0 {
                    eprintln!(
                        "note: {filtered} finding(s) suppressed by --severity, --ignore-unfixed or the ignore file"
                    );
                }
            }
            ScanEvent::TargetVanished { name, error } => {
                let why = error.source().map_or_else(|| error.to_string(), |s| s.to_string());
                eprintln!("warning: container {name} not scanned: {why}");
            }
            _ => {}
        }
    }
}
