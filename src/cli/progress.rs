//! Progress of a long command on standard error: a bar with an ETA on a terminal
//! (indicatif), plain lines at every tenth otherwise (logs of batch jobs stay readable).
//! Progress never reaches standard output, which holds only the result.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use crate::WallClock;

pub struct Progress {
    bar: Option<ProgressBar>,
    what: &'static str,
    total: u64,
    done: AtomicU64,
    failed: AtomicU64,
    clock: WallClock,
}

impl Progress {
    pub fn new(total: u64, what: &'static str) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let style = ProgressStyle::with_template("{bar:40.cyan/blue} {pos}/{len} {msg} · {per_sec} · ETA {eta}")
                .expect("a fixed template parses")
                .progress_chars("█▉▊▋▌▍▎▏ ");
            ProgressBar::new(total).with_style(style)
        });
        Progress {
            bar,
            what,
            total,
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            clock: WallClock::start(),
        }
    }

    /// One more item done (from any thread).
    pub fn tick(&self, failed: bool) {
        let failed = self.failed.fetch_add(failed as u64, Ordering::Relaxed) + failed as u64;
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if done % 64 == 0 || done == self.total {
                bar.set_message(format!("{} · {failed} failed", self.what));
            }
            return;
        }
        let tenth = |n: u64| n * 10 / self.total.max(1);
        if tenth(done) != tenth(done - 1) {
            let secs = self.clock.seconds();
            let eta = secs / done as f64 * (self.total - done) as f64;
            eprintln!(
                "{done}/{} {} ({}%), {failed} failed, {secs:.1} s, ETA {eta:.0} s",
                self.total,
                self.what,
                done * 100 / self.total.max(1)
            );
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    pub fn seconds(&self) -> f64 {
        self.clock.seconds()
    }
}
