//! Compare mode: a run beside a variant of itself. The rule for which two scenarios can be
//! compared lives here, once, for the page's Compare dialog, its links and embeds and the
//! presets' "Compare with it": the same nodes, the same seed and the same fault schedule,
//! and at least one setting changed. The two runs then differ only in the settings, so
//! every difference between them on screen is the settings' doing.
//!
//! The texts (`name`, `about`), the exercise and what a swarm may vary are no part of a
//! run and are ignored.

use serde_json::Value;

use crate::exercise::rules::{diff, top};
use crate::presets::{self, PRESETS};
use crate::scenario::Scenario;

/// Top-level fields that are no part of the run (or that the rule checks on its own).
const NOT_SETTINGS: &[&str] = &["name", "about", "exercise", "vary", "seed", "nodes", "faults"];

/// Whether `b` is a variant of `a` that differs only in settings. `Ok` holds the changed
/// settings as field paths (`protocol.retry.policy`, in order); `Err` says in words why the
/// two cannot be compared.
pub fn settings_only(a: &Scenario, b: &Scenario) -> Result<Vec<String>, String> {
    if a.nodes != b.nodes {
        return Err(format!(
            "they have different numbers of nodes ({} and {}); a comparison runs the same cluster twice",
            a.nodes, b.nodes
        ));
    }
    if a.seed != b.seed {
        return Err(format!(
            "they have different seeds ({} and {}); a comparison runs the same seed twice",
            a.seed, b.seed
        ));
    }
    if a.faults != b.faults {
        return Err(format!(
            "their fault schedules differ ({} and {} faults{}); a comparison runs the same faults twice",
            a.faults.len(),
            b.faults.len(),
            first_difference(a, b)
        ));
    }
    let mut changed = Vec::new();
    diff("", &value(a), &value(b), &mut changed);
    changed.retain(|path| !NOT_SETTINGS.contains(&top(path)));
    if changed.is_empty() {
        return Err("nothing but their names differs: change a setting in the variant".to_string());
    }
    Ok(changed)
}

fn first_difference(a: &Scenario, b: &Scenario) -> String {
    let at = a.faults.iter().zip(&b.faults).position(|(x, y)| x != y);
    match at {
        Some(i) => format!(", first at fault {}", i + 1),
        None => String::new(),
    }
}

/// The presets `name`'s "try next" text names (by title, in quotes) that differ from it only
/// in settings: the page offers "Compare with it" for each, in picker order.
pub fn preset_partners(name: &str) -> Vec<&'static str> {
    let Some(preset) = presets::find(name) else {
        return Vec::new();
    };
    let try_next = preset.info().try_next;
    let this = (preset.build)();
    PRESETS
        .iter()
        .filter(|p| p.name != name)
        .filter(|p| try_next.contains(&format!("'{}'", p.info().title)))
        .filter(|p| settings_only(&this, &(p.build)()).is_ok())
        .map(|p| p.name)
        .collect()
}

fn value(s: &Scenario) -> Value {
    crate::json_tree::json_tree(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preset(name: &str) -> Scenario {
        (presets::find(name).unwrap().build)()
    }

    #[test]
    fn a_changed_setting_is_named_and_texts_are_not_settings() {
        let a = preset("fixed-timeout");
        let mut b = a.clone();
        b.name = "Another name".to_string();
        assert!(settings_only(&a, &b).unwrap_err().contains("nothing but their names"));
        let b = preset("phi-accrual");
        let changed = settings_only(&a, &b).unwrap();
        assert!(changed.iter().all(|p| p.starts_with("protocol.")), "{changed:?}");
    }

    #[test]
    fn nodes_seed_and_faults_must_match_with_a_reason() {
        let a = preset("heartbeat");
        let mut b = a.clone();
        b.nodes = 7;
        assert!(settings_only(&a, &b)
            .unwrap_err()
            .contains("different numbers of nodes (5 and 7)"));
        let mut b = a.clone();
        b.seed = 9;
        assert!(settings_only(&a, &b).unwrap_err().contains("different seeds"));
        let c = preset("crash-recovery");
        assert!(settings_only(&a, &c).unwrap_err().contains("fault schedules differ"));
    }
}
