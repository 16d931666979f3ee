//! The JSON-lines history format (what `faultline run --history` writes, and
//! `faultline check` reads): an optional header line, then one operation a line.
//!
//! ```text
//! {"history":"faultline","version":1,"initial":0}
//! {"client":3,"key":0,"op":"write","value":2,"invoke_us":1200,"complete_us":3400,"result":"ok"}
//! {"client":4,"key":0,"op":"read","value":2,"invoke_us":1500,"complete_us":2100,"result":"ok"}
//! {"client":5,"key":0,"op":"cas","from":2,"to":7,"invoke_us":1600,"complete_us":null,"result":"unknown"}
//! ```
//!
//! `value`, `from` and `to` are integers or null (nil); `key` defaults to 0;
//! `complete_us` is null for an operation that never returned (only with `"unknown"`);
//! `result` is `ok`, `fail` or `unknown`. The header's `initial` is every register's value
//! before the first operation (default null). Blank lines are skipped. `docs/history.md`
//! describes the format.

use serde::{Deserialize, Serialize};

use super::jepsen::ParseError;
use super::{History, Op, Operation, Outcome, Value};

/// The format's version, written in the header.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    history: String,
    version: u32,
    #[serde(default)]
    initial: Value,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    client: u64,
    #[serde(default)]
    key: u64,
    op: String,
    #[serde(default, deserialize_with = "given", skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
    #[serde(default, deserialize_with = "given", skip_serializing_if = "Option::is_none")]
    from: Option<Value>,
    #[serde(default, deserialize_with = "given", skip_serializing_if = "Option::is_none")]
    to: Option<Value>,
    invoke_us: u64,
    complete_us: Option<u64>,
    result: String,
}

/// A field that is present, null included (null is nil; `None` means absent).
fn given<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// `"value": null` and a missing `value` differ: null is nil.
fn present(v: Option<Value>, field: &str, op: &str) -> Result<Value, String> {
    v.ok_or_else(|| format!("a {op} needs `{field}` (an integer, or null for nil)"))
}

fn operation(l: Line) -> Result<Operation, String> {
    let op = match l.op.as_str() {
        "read" if l.result == "ok" => Op::Read(present(l.value, "value", "read that returned")?),
        "read" => Op::Read(l.value.unwrap_or(None)),
        "write" => Op::Write(present(l.value, "value", "write")?),
        "cas" => Op::Cas(present(l.from, "from", "cas")?, present(l.to, "to", "cas")?),
        other => return Err(format!("unknown op `{other}` (expected read, write or cas)")),
    };
    let outcome = match l.result.as_str() {
        "ok" => Outcome::Ok,
        "fail" => Outcome::Fail,
        "unknown" => Outcome::Unknown,
        other => return Err(format!("unknown result `{other}` (expected ok, fail or unknown)")),
    };
    match l.complete_us {
        None if outcome != Outcome::Unknown => {
            return Err(format!(
                "`complete_us` is null but the result is `{}`: only an unknown outcome never returns",
                l.result
            ))
        }
        Some(t) if t < l.invoke_us => return Err(format!("`complete_us` {t} is before `invoke_us` {}", l.invoke_us)),
        _ => {}
    }
    Ok(Operation {
        client: l.client,
        key: l.key,
        op,
        invoke_us: l.invoke_us,
        complete_us: l.complete_us,
        outcome,
    })
}

/// Reads a whole history.
pub fn parse(text: &str) -> Result<History, ParseError> {
    let mut history = History::new(None);
    let mut first = true;
    for (n, line) in text.lines().enumerate() {
        let fail = |problem: String| ParseError { line: n + 1, problem };
        if line.trim().is_empty() {
            continue;
        }
        let header = first && line.contains("\"history\"");
        first = false;
        if header {
            let h: Header = serde_json::from_str(line).map_err(|e| fail(format!("bad header: {e}")))?;
            if h.history != "faultline" || h.version != VERSION {
                return Err(fail(format!(
                    "a header of `{}` version {}: this reads `faultline` version {VERSION}",
                    h.history, h.version
                )));
            }
            history.initial = h.initial;
            continue;
        }
        let l: Line = serde_json::from_str(line).map_err(|e| fail(format!("not an operation: {e}")))?;
        history.ops.push(operation(l).map_err(fail)?);
    }
    Ok(history)
}

/// Writes a history: the header, then one operation a line, as given.
pub fn write(history: &History) -> String {
    let header = Header {
        history: "faultline".into(),
        version: VERSION,
        initial: history.initial,
    };
    let mut out = serde_json::to_string(&header).expect("a header serializes");
    out.push('\n');
    for o in &history.ops {
        out.push_str(&line(o));
        out.push('\n');
    }
    out
}

/// One operation as a line (no newline).
pub fn line(o: &Operation) -> String {
    let (op, value, from, to) = match o.op {
        Op::Read(v) => ("read", (o.outcome == Outcome::Ok).then_some(v), None, None),
        Op::Write(v) => ("write", Some(v), None, None),
        Op::Cas(a, b) => ("cas", None, Some(a), Some(b)),
    };
    let result = match o.outcome {
        Outcome::Ok => "ok",
        Outcome::Fail => "fail",
        Outcome::Unknown => "unknown",
    };
    let l = Line {
        client: o.client,
        key: o.key,
        op: op.into(),
        value,
        from,
        to,
        invoke_us: o.invoke_us,
        complete_us: o.complete_us,
        result: result.into(),
    };
    serde_json::to_string(&l).expect("an operation serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_history_reads_back_the_same() {
        let mut h = History::new(Some(0));
        for (i, op) in [
            Op::Read(Some(3)),
            Op::Read(None),
            Op::Write(None),
            Op::Cas(Some(1), None),
        ]
        .into_iter()
        .enumerate()
        {
            let outcome = [Outcome::Ok, Outcome::Ok, Outcome::Fail, Outcome::Unknown][i];
            let complete_us = (outcome != Outcome::Unknown).then_some(10 + i as u64);
            h.ops.push(Operation {
                client: i as u64,
                key: 2,
                op,
                invoke_us: i as u64,
                complete_us,
                outcome,
            });
        }
        assert_eq!(parse(&write(&h)).unwrap(), h);
    }
}
