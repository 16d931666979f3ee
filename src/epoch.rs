//! The engine's behaviour version: its epoch.
//!
//! A run is a pure function of its scenario *and of the engine that runs it*. When the
//! engine's behaviour changes on purpose (a protocol fix, a new draw from a random stream),
//! the same scenario gives another trace, so a link made before the change would silently
//! replay a different run. The epoch names the behaviour: share links, trace files and the
//! page record the epoch they were made with, the CLI warns when it replays a link of
//! another epoch, and a published site can keep the engine builds of earlier epochs so old
//! links replay as they were (see `docs/publishing.md`).
//!
//! Invariant: the epoch changes exactly when the trace of an existing scenario changes.
//! `tests/fixtures/epochs.tsv` records, per epoch, the golden trace hashes of
//! `tests/determinism.rs` it was cut with; the test below fails when a golden hash
//! changes without a new epoch, and when a new golden scenario is not yet recorded.
//! Links made before epochs existed carry none and are taken as [`FIRST_EPOCH`].

/// The epoch of this build of the engine.
pub const EPOCH: u32 = 2;

/// The epoch of every link made before links recorded one.
pub const FIRST_EPOCH: u32 = 1;

/// How people see an epoch: `e1`, `e2`, …
pub fn label(epoch: u32) -> String {
    format!("e{epoch}")
}

/// The first line of a trace file (`faultline run --trace`, the page's trace export): which
/// engine epoch wrote the events that follow, one JSON object per line.
pub fn trace_header_line() -> String {
    format!("{{\"trace\":\"faultline\",\"engine_epoch\":{EPOCH}}}")
}

/// What the CLI says about replaying a link of `link_epoch` with this engine: `Ok` with a
/// quiet line when the epochs match, `Err` with a warning when the run may differ.
pub fn replay_note(link_epoch: u32) -> Result<String, String> {
    let (made, this) = (label(link_epoch), label(EPOCH));
    if link_epoch == EPOCH {
        return Ok(format!("engine: made with engine {made}; replayed with {this}"));
    }
    let age = if link_epoch < EPOCH { "an older" } else { "a newer" };
    Err(format!(
        "this link was made with engine {made}, {age} engine than this one ({this}): \
         the run may differ from the one that was shared"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// `(name, hash)` pairs written as `("name", "0123456789abcdef")` in the golden table.
    fn golden_hashes() -> Vec<(String, String)> {
        let text = include_str!("../tests/determinism.rs");
        let mut pairs = Vec::new();
        for line in text.lines() {
            let line = line.trim().trim_end_matches(',');
            let Some(inner) = line.strip_prefix("(\"").and_then(|l| l.strip_suffix("\")")) else {
                continue;
            };
            let Some((name, hash)) = inner.split_once("\", \"") else {
                continue;
            };
            if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                pairs.push((name.to_string(), hash.to_string()));
            }
        }
        pairs
    }

    /// epoch → preset → golden hash, from `tests/fixtures/epochs.tsv`.
    fn record() -> BTreeMap<u32, BTreeMap<String, String>> {
        let text = include_str!("../tests/fixtures/epochs.tsv");
        let mut record: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 3, "malformed epochs.tsv line: {line}");
            let epoch = cols[0].parse().unwrap_or_else(|_| panic!("bad epoch in: {line}"));
            record
                .entry(epoch)
                .or_default()
                .insert(cols[1].to_string(), cols[2].to_string());
        }
        record
    }

    #[test]
    fn the_epoch_changes_exactly_when_a_golden_trace_changes() {
        let golden = golden_hashes();
        assert!(
            golden.len() >= 10,
            "found only {} golden hashes in tests/determinism.rs: has the table moved?",
            golden.len()
        );
        let record = record();
        let epochs: Vec<u32> = record.keys().copied().collect();
        let expected: Vec<u32> = (FIRST_EPOCH..=EPOCH).collect();
        assert_eq!(
            epochs, expected,
            "tests/fixtures/epochs.tsv must record every epoch from e{FIRST_EPOCH} to EPOCH = e{EPOCH}"
        );
        let current = &record[&EPOCH];
        for (name, hash) in &golden {
            match current.get(name) {
                Some(recorded) => assert_eq!(
                    recorded,
                    hash,
                    "the golden trace of `{name}` changed ({recorded} → {hash}): the engine's behaviour \
                     changed, so it needs a new epoch. Set EPOCH = {} in src/epoch.rs and record every \
                     golden hash under epoch {} in tests/fixtures/epochs.tsv",
                    EPOCH + 1,
                    EPOCH + 1
                ),
                None => panic!(
                    "`{name}` is a new golden scenario: add `{EPOCH}\t{name}\t{hash}` to \
                     tests/fixtures/epochs.tsv (a new scenario needs no new epoch)"
                ),
            }
        }
    }

    #[test]
    fn the_trace_header_is_one_json_object_naming_the_epoch() {
        let header: serde_json::Value = serde_json::from_str(&trace_header_line()).unwrap();
        assert_eq!(header["engine_epoch"], EPOCH);
        assert_eq!(header["trace"], "faultline");
    }

    #[test]
    fn the_replay_note_warns_only_across_epochs() {
        let this = label(EPOCH);
        let same = replay_note(EPOCH).unwrap();
        assert_eq!(same, format!("engine: made with engine {this}; replayed with {this}"));
        let older = replay_note(0).unwrap_err();
        assert!(
            older.contains(&format!("engine e0, an older engine than this one ({this})")),
            "{older}"
        );
        assert!(replay_note(EPOCH + 1).unwrap_err().contains("a newer engine"));
    }
}
