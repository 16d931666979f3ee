//! Engine epochs at the boundaries: a link records the epoch it was made with, and the CLI
//! says which epoch a link was made with and warns when it is not this engine's.

use std::process::Command;

use faultline::epoch::{label, EPOCH};
use faultline::{share, Simulation};

/// The committed link stamped with epoch 0: (link, trace hash).
fn e0_link() -> (String, String) {
    let text = include_str!("fixtures/links-e0.tsv");
    let line = text
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .unwrap();
    let cols: Vec<&str> = line.split('\t').collect();
    (cols[1].to_string(), cols[2].to_string())
}

fn faultline(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("the binary runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn a_link_of_another_epoch_is_read_with_its_epoch_and_replays_to_its_hash() {
    let (link, hash) = e0_link();
    let run = share::decode(&link).unwrap();
    assert_eq!(run.epoch, 0);
    let mut sim = Simulation::new(run.scenario).unwrap();
    sim.advance_to(run.t_us);
    assert_eq!(sim.trace_hash_hex(), hash);
}

#[test]
fn the_cli_prints_the_links_epoch_and_warns_on_a_mismatch() {
    let (link, hash) = e0_link();
    let (ok, out, err) = faultline(&["run", "--scenario-url", &link, "--trace-hash"]);
    assert!(ok, "{err}");
    let this = label(EPOCH);
    assert!(
        err.contains(&format!(
            "warning: this link was made with engine e0, an older engine than this one ({this})"
        )),
        "{err}"
    );
    assert_eq!(out.lines().last(), Some(hash.as_str()), "{out}");

    let (ok, current, _) = faultline(&["link", "--preset", "partition", "--at", "3s"]);
    assert!(ok);
    let (ok, out, err) = faultline(&["run", "--scenario-url", current.trim(), "--trace-hash"]);
    assert!(ok, "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert!(
        out.contains(&format!("engine: made with engine {this}; replayed with {this}")),
        "{out}"
    );
    assert_eq!(
        out.lines().last(),
        Some(hash.as_str()),
        "same scenario, same engine behaviour"
    );
}
