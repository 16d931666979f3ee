//! Share links keep working: every committed link of every released format opens and
//! replays to the trace hash recorded when it was made.

use faultline::share;
use faultline::Simulation;

#[test]
fn committed_f1_links_replay_to_their_recorded_hashes() {
    let text = include_str!("fixtures/links-F1.tsv");
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "malformed fixture line: {line}");
        let (name, link, hash) = (cols[0], cols[1], cols[2]);
        let run = share::decode(link).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut sim = Simulation::new(run.scenario).unwrap_or_else(|e| panic!("{name}: {e}"));
        sim.advance_to(run.t_us);
        assert_eq!(sim.trace_hash_hex(), hash, "{name} no longer replays the same");
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} links checked");
}

#[test]
fn a_live_run_shared_as_a_link_replays_bit_for_bit() {
    let mut live = Simulation::new(faultline::Scenario::basic(5, 77)).unwrap();
    live.run_until_ms(1_234.5).unwrap();
    live.inject(faultline::Fault::Crash { node: 3 }, Some(800.0)).unwrap();
    live.run_until_ms(2_000.25).unwrap();
    live.inject(faultline::Fault::Isolate { node: 0 }, None).unwrap();
    live.run_until_ms(3_333.0).unwrap();
    let link = share::encode(live.scenario(), live.now_us());
    let run = share::decode(&link).unwrap();
    let mut replay = Simulation::new(run.scenario).unwrap();
    replay.advance_to(run.t_us);
    assert_eq!(replay.trace_hash(), live.trace_hash());
    assert_eq!(replay.snapshot(), live.snapshot());
}

#[test]
fn every_preset_round_trips_through_the_codec_and_replays() {
    for preset in faultline::presets::PRESETS {
        let scenario = (preset.build)();
        let t_us = 2_500_000;
        let link = share::encode(&scenario, t_us);
        let run = share::decode(&link).unwrap_or_else(|e| panic!("{}: {e}", preset.name));
        assert_eq!(run.scenario, scenario, "{}", preset.name);
        assert_eq!(run.t_us, t_us);
        if scenario.nodes <= 64 {
            let mut a = Simulation::new(scenario).unwrap();
            a.advance_to(t_us);
            let mut b = Simulation::new(run.scenario).unwrap();
            b.advance_to(run.t_us);
            assert_eq!(a.trace_hash(), b.trace_hash(), "{}", preset.name);
        }
    }
}
