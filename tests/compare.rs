//! Compare mode's rule through the public API (`faultline::compare`): which two runs can
//! be set side by side, and which presets offer "Compare with it".

use faultline::compare::{preset_partners, settings_only};
use faultline::presets::{find, PRESETS};
use faultline::Scenario;

fn preset(name: &str) -> Scenario {
    (find(name).unwrap().build)()
}

#[test]
fn presets_offer_the_defence_their_try_next_names() {
    assert_eq!(preset_partners("fixed-timeout"), ["phi-accrual"]);
    assert_eq!(preset_partners("split-brain"), ["raft-one-leader"]);
    assert_eq!(preset_partners("expired-lease"), ["fencing-tokens"]);
    assert_eq!(
        preset_partners("cascading-failure"),
        ["circuit-breakers", "load-shedding"]
    );
    assert_eq!(preset_partners("cap-cp"), ["cap-ap"]);
}

#[test]
fn a_named_preset_with_other_faults_or_nodes_is_not_offered() {
    // 'Slow network' is named by the latency spike's "try next" but has no spike.
    assert!(preset_partners("latency-spike").is_empty());
    let why = settings_only(&preset("latency-spike"), &preset("slow-network")).unwrap_err();
    assert!(why.contains("fault schedules differ"), "{why}");
    // Raft's Byzantine leader names a PBFT preset: another cluster size.
    assert!(preset_partners("raft-byzantine-leader").is_empty());
    assert!(preset_partners("no-such-preset").is_empty());
}

#[test]
fn every_offer_is_a_settings_only_pair_both_ways_with_the_settings_named() {
    let mut offers = 0;
    for p in PRESETS {
        for q in preset_partners(p.name) {
            let (a, b) = (preset(p.name), preset(q));
            let there = settings_only(&a, &b).unwrap_or_else(|e| panic!("{} → {q}: {e}", p.name));
            let back = settings_only(&b, &a).unwrap();
            assert_eq!(there, back, "{} and {q}: the same settings differ either way", p.name);
            assert!(!there.is_empty());
            offers += 1;
        }
    }
    assert!(offers >= 8, "only {offers} presets offer a comparison");
}

#[test]
fn a_variant_with_a_setting_changed_is_comparable_and_names_it() {
    let a = preset("retry-storm");
    let mut b = a.clone();
    let mut json = serde_json::to_value(&b).unwrap();
    json["protocol"]["retry"] = serde_json::json!("backoff");
    json["protocol"]["budget"] = serde_json::json!(0.1);
    b = serde_json::from_value(json).unwrap();
    b.validate().unwrap();
    let changed = settings_only(&a, &b).unwrap();
    assert_eq!(changed, ["protocol.budget", "protocol.retry"]);
}
