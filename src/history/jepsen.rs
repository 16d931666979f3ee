//! Reads the Jepsen log of a single register, the format Knossos and Porcupine take:
//!
//! ```text
//! INFO  jepsen.util - 3   :invoke   :write   2
//! INFO  jepsen.util - 3   :ok   :write   2
//! INFO  jepsen.util - 1   :invoke   :cas   [2 4]
//! INFO  jepsen.util - 1   :info   :cas   :timed-out
//! ```
//!
//! A history line holds `jepsen.util`, then (after a `-` or `:`) the process, the type
//! (`:invoke`, `:ok`, `:fail`, `:info`), the function (`:read`, `:write`, `:cas`) and a
//! value (`nil`, an integer, `[old new]`, or a keyword such as `:timed-out`), separated by
//! tabs or runs of spaces. Every other line is skipped, and so are the nemesis's lines.
//! Times are the line numbers: an operation is invoked at its `:invoke` line and returns
//! at its completion's. `:fail` means it did not take effect, `:info` that nobody knows;
//! operations still open at the end are unknown too. The register starts at nil.

use super::{History, Op, Operation, Outcome, Value};

/// A problem with a log, naming its line (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub problem: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

/// One history line, split.
struct Event<'a> {
    process: u64,
    kind: &'a str,
    function: &'a str,
    value: String,
}

/// The fields after `jepsen.util`, or `None` for a line that is not a client's history
/// line (no `jepsen.util`, or the nemesis).
fn split(line: &str) -> Option<Result<Event<'_>, String>> {
    let at = line.find("jepsen.util")?;
    let rest = line[at + "jepsen.util".len()..].trim_start();
    let rest = rest.strip_prefix(['-', ':']).unwrap_or(rest);
    let mut fields = rest.split_whitespace();
    let process = fields.next()?;
    if process == ":nemesis" {
        return None;
    }
    let (Some(kind), Some(function)) = (fields.next(), fields.next()) else {
        return Some(Err(format!(
            "expected `<process> <type> <function> <value>`, got `{}`",
            rest.trim()
        )));
    };
    let Ok(process) = process.parse::<u64>() else {
        return Some(Err(format!("the process `{process}` is not a whole number")));
    };
    let value = fields.collect::<Vec<_>>().join(" ");
    Some(Ok(Event {
        process,
        kind,
        function,
        value,
    }))
}

/// `nil`, an integer, or a keyword (no value: `None` outside, e.g. `:timed-out`).
fn scalar(text: &str) -> Result<Option<Value>, String> {
    match text {
        "nil" | "" => Ok(Some(None)),
        t if t.starts_with(':') => Ok(None),
        t => t
            .parse::<i64>()
            .map(|v| Some(Some(v)))
            .map_err(|_| format!("`{t}` is not nil, an integer or [old new]")),
    }
}

/// The operation a `function value` pair names (a keyword value leaves the value out).
fn operation(function: &str, value: &str) -> Result<Option<Op>, String> {
    match function {
        ":read" => Ok(scalar(value)?.map(Op::Read)),
        ":write" => Ok(scalar(value)?.map(Op::Write)),
        ":cas" => {
            if value.starts_with(':') {
                return Ok(None);
            }
            let inner = (value.strip_prefix('['))
                .and_then(|v| v.strip_suffix(']'))
                .ok_or_else(|| format!("a cas value is [old new], got `{value}`"))?;
            let parts: Vec<&str> = inner.split_whitespace().collect();
            let [old, new] = parts[..] else {
                return Err(format!("a cas value is [old new], got `{value}`"));
            };
            match (scalar(old)?, scalar(new)?) {
                (Some(a), Some(b)) => Ok(Some(Op::Cas(a, b))),
                _ => Err(format!("a cas value is [old new], got `{value}`")),
            }
        }
        other => Err(format!("unknown function `{other}` (expected :read, :write or :cas)")),
    }
}

/// An operation in progress: its index in the history and its `:invoke` function.
type Open = (usize, String);

/// Reads a whole log.
pub fn parse(text: &str) -> Result<History, ParseError> {
    let mut history = History::new(None);
    // Per process: the operation it has in progress, if any. Sorted by process.
    let mut open: std::collections::BTreeMap<u64, Option<Open>> = Default::default();
    let mut found = false;
    for (n, line) in text.lines().enumerate() {
        let fail = |problem: String| ParseError { line: n + 1, problem };
        let Some(event) = split(line) else { continue };
        let event = event.map_err(fail)?;
        found = true;
        let t = n as u64 + 1;
        line_event(&mut history, &mut open, event, t).map_err(fail)?;
    }
    if !found {
        return Err(ParseError {
            line: 1,
            problem: "no Jepsen history line (`INFO jepsen.util - <process> :invoke :read nil`) in the input".into(),
        });
    }
    Ok(history)
}

fn line_event(
    history: &mut History,
    open: &mut std::collections::BTreeMap<u64, Option<Open>>,
    e: Event<'_>,
    t: u64,
) -> Result<(), String> {
    let p = e.process;
    match e.kind {
        ":invoke" => {
            if let Some(Some((_, f))) = open.get(&p) {
                return Err(format!(
                    "process {p} invokes {} while its {f} has not completed",
                    e.function
                ));
            }
            let op = operation(e.function, &e.value)?
                .ok_or_else(|| format!("an :invoke needs a value, got `{}`", e.value))?;
            open.insert(p, Some((history.ops.len(), e.function.to_string())));
            history.ops.push(Operation {
                client: p,
                key: 0,
                op,
                invoke_us: t,
                complete_us: None,
                outcome: Outcome::Unknown,
            });
            Ok(())
        }
        ":ok" | ":fail" | ":info" => complete(history, open, e, t),
        other => Err(format!(
            "unknown type `{other}` (expected :invoke, :ok, :fail or :info)"
        )),
    }
}

fn complete(
    history: &mut History,
    open: &mut std::collections::BTreeMap<u64, Option<Open>>,
    e: Event<'_>,
    t: u64,
) -> Result<(), String> {
    let p = e.process;
    let (index, function) = match open.get_mut(&p) {
        None => {
            return Err(format!(
                "unknown process {p}: {} {} completes an operation it never invoked",
                e.kind, e.function
            ))
        }
        Some(slot) => slot.take().ok_or_else(|| {
            format!(
                "unmatched completion: process {p} has no operation in progress for this {} {}",
                e.kind, e.function
            )
        })?,
    };
    if function != e.function {
        return Err(format!(
            "process {p} invoked {function} but this {} is for {}",
            e.kind, e.function
        ));
    }
    let o = &mut history.ops[index];
    o.complete_us = Some(t);
    o.outcome = match e.kind {
        ":ok" => Outcome::Ok,
        ":fail" => Outcome::Fail,
        _ => Outcome::Unknown,
    };
    if e.kind == ":ok" {
        match operation(e.function, &e.value)? {
            Some(Op::Read(v)) => o.op = Op::Read(v),
            Some(_) => {}
            None => return Err(format!("an :ok {} needs its value, got `{}`", e.function, e.value)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_may_be_tabs_or_runs_of_spaces() {
        let h = parse("INFO  jepsen.util - 0\t:invoke\t:cas\t[1 4]\nINFO jepsen.util -   0   :ok   :cas   [1   4]\n")
            .unwrap();
        assert_eq!(h.ops.len(), 1);
        assert_eq!(h.ops[0].op, Op::Cas(Some(1), Some(4)));
        assert_eq!((h.ops[0].invoke_us, h.ops[0].complete_us), (1, Some(2)));
    }
}
