//! Drawing [`Progress`] events: indicatif bars on a terminal, and one plain line per
//! finished item in CI logs (where bars would print thousands of lines).

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;

use custody_output::{Progress, safe};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar per item in flight, on stderr; hidden automatically when stderr is not a
/// terminal.
#[derive(Debug)]
pub struct TerminalProgress {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl TerminalProgress {
    pub fn new() -> Self {
        Self {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }
}

impl Default for TerminalProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for TerminalProgress {
    fn start(&self, item: &str, total: Option<u64>) {
        let bar = match total {
            Some(total) => {
                let bar = ProgressBar::new(total);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {msg:40!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar
            }
            None => ProgressBar::new_spinner(),
        };
        bar.set_message(safe::neutralize(item));
        let bar = self.multi.add(bar);
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert(item.to_owned(), bar);
        }
    }

    fn advance(&self, item: &str, bytes: u64) {
        if let Ok(bars) = self.bars.lock()
            && let Some(bar) = bars.get(item)
        {
            bar.inc(bytes);
        }
    }

    fn finish(&self, item: &str, _outcome: &str) {
        if let Ok(mut bars) = self.bars.lock()
            && let Some(bar) = bars.remove(item)
        {
            bar.finish_and_clear();
        }
    }
}

/// One line per finished item on stderr, for CI logs and redirected output.
#[derive(Debug)]
pub struct LineProgress {
    enabled: bool,
}

impl LineProgress {
    /// `enabled`: print lines (CI); otherwise stay silent (a redirected local run).
    pub fn new(enabled: bool) -> Self {
        Self { enabled }
    }
}

impl Progress for LineProgress {
    fn finish(&self, item: &str, outcome: &str) {
        if self.enabled {
            let _ = writeln!(
                std::io::stderr(),
                "{outcome:>10}  {}",
                safe::neutralize(&safe::one_line(item))
            );
        }
    }
}
