//! The command line's exploring commands: `sweep`, `sweep merge` and `shrink` (the
//! library side is `faultline::explore`); `progress` draws their progress on stderr;
//! `check`, the linearizability of a client history (`faultline::history`); `history`,
//! the register's history that `run --history` writes; `exercise`, judging exercise runs.

/// `print!` that ends the program quietly when stdout is closed (`faultline … | head`),
/// where `print!` would panic on the broken pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_out(format_args!($($arg)*))
    };
}

/// `println!` with the same care.
macro_rules! outln {
    () => {
        $crate::cli::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};

/// Writes to stdout; a reader that went away ends the program with success, as `head`
/// expects; any other write error ends it with a message.
pub fn write_out(text: std::fmt::Arguments) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_fmt(text) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("faultline: error: writing to stdout: {e}");
        std::process::exit(1);
    }
}

pub mod check;
pub mod exercise;
pub mod history;
pub mod progress;
pub mod shrink;
pub mod sweep;
