//! Exercises: every built-in exercise has a reference solution that meets its goal, the
//! exercise left alone does not, one fault over the budget is refused with a clear
//! message; goals and rules are validated like any scenario; the `exercise` field never
//! changes a run; `faultline check-exercise` judges links and files.

use std::process::Command;

use faultline::exercise::catalogue::{self, EXERCISES};
use faultline::exercise::judge::{judge, Judgement};
use faultline::{Scenario, Simulation};
use serde_json::{json, Value};

/// A reference solution (`tests/fixtures/exercise-solutions.json`, shared with the browser
/// test): faults the learner adds (injected on the page) and settings merged into
/// `protocol`; `extra` are further allowed faults, used to go one over the budget.
struct Solution {
    name: String,
    faults: Value,
    protocol: Value,
    extra: Value,
}

fn solutions() -> Vec<Solution> {
    let text = include_str!("fixtures/exercise-solutions.json");
    let all: serde_json::Map<String, Value> = serde_json::from_str(text).unwrap();
    all.into_iter()
        .map(|(name, v)| Solution {
            name,
            faults: v["faults"].clone(),
            protocol: v["protocol"].clone(),
            extra: v["extra"].clone(),
        })
        .collect()
}

fn fault(at_ms: f64, fault: Value) -> Value {
    json!({"at_ms": at_ms, "fault": fault, "injected": true})
}

/// The exercise as posed, with `faults` appended and `protocol` merged.
fn submit(name: &str, faults: &Value, protocol: &Value) -> Scenario {
    let posed = catalogue::find(name).unwrap_or_else(|| panic!("no exercise {name}"));
    let mut v: Value = serde_json::from_str(posed.source).unwrap();
    v["faults"]
        .as_array_mut()
        .unwrap()
        .extend(faults.as_array().unwrap().iter().cloned());
    for (k, x) in protocol.as_object().unwrap() {
        v["protocol"][k] = x.clone();
    }
    Scenario::from_json(&v.to_string()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn judged(name: &str, s: &Scenario) -> Judgement {
    judge(s).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn there_are_twelve_or_more_exercises_each_with_a_solution() {
    assert!(EXERCISES.len() >= 12, "only {} exercises", EXERCISES.len());
    let sols = solutions();
    for e in EXERCISES {
        assert!(
            sols.iter().any(|s| s.name == e.name),
            "exercise {} has no reference solution",
            e.name
        );
        let s = e.scenario();
        let x = s
            .exercise
            .as_ref()
            .unwrap_or_else(|| panic!("{} poses no exercise", e.name));
        assert_eq!(x.id, e.name, "an exercise's id is its file name");
        assert!(!x.task.is_empty() && x.hints.len() >= 2, "{}: a task and hints", e.name);
        let info = e.info();
        assert!(!info.title.is_empty() && !info.class.is_empty(), "{}", e.name);
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("exercises");
    let files = std::fs::read_dir(dir).unwrap().count();
    assert_eq!(
        files,
        EXERCISES.len(),
        "every exercises/*.json is listed in the catalogue"
    );
}

#[test]
fn every_reference_solution_meets_its_goal() {
    for sol in solutions() {
        let s = submit(&sol.name, &sol.faults, &sol.protocol);
        let j = judged(&sol.name, &s);
        assert!(j.broken.is_empty(), "{}: {:?}", sol.name, j.broken);
        assert!(j.met, "{}: {}", sol.name, j.lines().join("\n"));
        assert!(j.headline.starts_with("goal met at "), "{}: {}", sol.name, j.headline);
        let at = j.met_at_ms.unwrap();
        assert!(at > 0.0 && at <= j.time_limit_ms, "{}: met at {at}", sol.name);
    }
}

#[test]
fn doing_nothing_does_not_meet_any_goal() {
    for e in EXERCISES {
        let j = judged(e.name, &e.scenario());
        assert!(j.broken.is_empty(), "{}: {:?}", e.name, j.broken);
        assert!(!j.met, "{} is met without doing anything: {}", e.name, j.headline);
        assert!(j.headline.starts_with("goal not met by "), "{}: {}", e.name, j.headline);
        assert!(
            j.parts.iter().any(|p| !p.met && !p.why.is_empty()),
            "{}: says what was not met",
            e.name
        );
    }
}

#[test]
fn one_fault_over_the_budget_is_refused_with_a_clear_message() {
    for sol in solutions() {
        let posed = catalogue::find(&sol.name).unwrap().scenario();
        let max = posed
            .exercise
            .unwrap()
            .rules
            .faults
            .max
            .expect("every built-in exercise has a budget") as usize;
        let mut all = sol.faults.as_array().unwrap().clone();
        let extra = sol.extra.as_array().unwrap();
        let need = max + 1 - all.len();
        assert!(extra.len() >= need, "{}: not enough extra faults to go over", sol.name);
        all.extend(extra[..need].iter().cloned());
        let s = submit(&sol.name, &Value::Array(all), &sol.protocol);
        let j = judged(&sol.name, &s);
        assert!(!j.met && j.met_at_ms.is_none(), "{}", sol.name);
        let want = format!("rule broken: {} faults used; the budget is {max}", max + 1);
        assert!(j.headline.starts_with(&want), "{}: {}", sol.name, j.headline);
        assert!(j.parts.is_empty(), "{}: a refused run is not judged", sol.name);
    }
}

#[test]
fn a_setting_the_rules_do_not_allow_is_refused() {
    let s = submit(
        "fence-the-zombie",
        &json!([]),
        &json!({"fencing": true, "lease_ms": 5000.0}),
    );
    let j = judged("fence-the-zombie", &s);
    assert!(!j.met);
    assert!(j.headline.contains("`protocol.lease_ms` was changed"), "{}", j.headline);
    assert!(
        j.headline.contains("allowed: protocol.fencing, protocol.stonith"),
        "{}",
        j.headline
    );
    // The seed is a setting too: a lucky seed is no solution.
    let mut s = submit("split-brain", &json!([]), &json!({}));
    s.seed = 7;
    assert!(judged("split-brain", &s).headline.contains("`seed` was changed"));
}

#[test]
fn a_fault_of_a_kind_or_node_the_rules_do_not_allow_is_refused() {
    let j = judged(
        "clock-jump",
        &submit(
            "clock-jump",
            &json!([fault(2000.0, json!({"kind": "crash", "node": 2}))]),
            &json!({}),
        ),
    );
    assert!(
        j.headline.contains("crash is not allowed here; allowed: clock_jump"),
        "{}",
        j.headline
    );
    let j = judged(
        "detect-a-crash",
        &submit(
            "detect-a-crash",
            &json!([fault(20000.0, json!({"kind": "crash", "node": 2}))]),
            &json!({}),
        ),
    );
    assert!(
        j.headline.contains("comes after the time limit (10000 ms)"),
        "{}",
        j.headline
    );
}

#[test]
fn a_submission_cannot_change_the_exercise_or_drop_its_faults() {
    let mut s = submit("fence-the-zombie", &json!([]), &json!({"fencing": true}));
    s.exercise.as_mut().unwrap().rules.faults.max = Some(9);
    assert!(judged("x", &s).headline.contains("the exercise itself was changed"));
    let mut s = submit("fence-the-zombie", &json!([]), &json!({"fencing": true}));
    s.faults.clear();
    let j = judged("x", &s);
    assert!(
        j.headline
            .contains("the exercise's own fault `pause n2 2500 ms` at 2000 ms was removed"),
        "{}",
        j.headline
    );
}

#[test]
fn goals_and_rules_are_validated_with_clear_errors() {
    let base = |exercise: Value| json!({"nodes": 3, "exercise": exercise}).to_string();
    let err = |exercise: Value| Scenario::from_json(&base(exercise)).unwrap_err().to_string();
    let e = err(json!({"goal": {"check": "strong_accuracy", "is": "violated"}, "rules": {"faults": {"max": -1}}}));
    assert_eq!(e, "exercise.rules.faults.max: a budget cannot be below zero, got -1");
    let e = err(
        json!({"goal": {"check": "strong_accuracy", "is": "violated"}, "rules": {"faults": {"kinds": ["meteor"]}}}),
    );
    assert!(
        e.starts_with("exercise.rules.faults.kinds[0]: `meteor` is not a fault kind"),
        "{e}"
    );
    let e = err(json!({"goal": {"check": "strong_accuracy", "is": "violated"}, "rules": {"faults": {"nodes": [5]}}}));
    assert!(e.contains("no node 5"), "{e}");
    let e = err(json!({"goal": {"check": "x", "figure": "y", "at_least": 1}}));
    assert!(
        e.contains("a goal is exactly one of") && e.contains("check, figure"),
        "{e}"
    );
    let e = err(json!({"goal": {"all": []}}));
    assert!(e.contains("need at least one goal"), "{e}");
    let e = err(json!({"goal": {"figure": "false_suspicions"}}));
    assert!(e.contains("give a bound"), "{e}");
    let e = err(json!({"goal": {"check": "strong_accuracy", "is": "broken"}}));
    assert!(e.starts_with("exercise.goal"), "{e}");
    let e = err(json!({"goal": {"series": "g", "from_ms": 0, "to_ms": 40000, "at_least": 1}}));
    assert!(e.contains("after the time limit"), "{e}");
    let e = err(json!({"goal": {"all": [{"check": "a", "is": "holds", "at_least": 2}]}}));
    assert!(e.contains("`at_least` does not belong"), "{e}");
    // Names are checked against the protocol's own checkers when judged.
    let s = Scenario::from_json(&base(json!({"goal": {"check": "split_brian", "is": "violated"}}))).unwrap();
    let e = judge(&s).unwrap_err().to_string();
    assert!(
        e.contains("`split_brian` is not a check") && e.contains("strong_accuracy"),
        "{e}"
    );
    let s = Scenario::from_json(&base(
        json!({"goal": {"check": "strong_completeness", "is": "violated"}}),
    ))
    .unwrap();
    let e = judge(&s).unwrap_err().to_string();
    assert!(
        e.contains("is a liveness check: ask whether it is satisfied or pending"),
        "{e}"
    );
    let e = judge(&Scenario::basic(3, 1)).unwrap_err().to_string();
    assert!(e.contains("poses no exercise"), "{e}");
}

#[test]
fn the_exercise_field_never_changes_the_run() {
    for e in EXERCISES {
        let posed = e.scenario();
        let mut plain = posed.clone();
        plain.exercise = None;
        assert!(
            !plain.to_json().contains("\"exercise\":"),
            "{}: absent field stays absent",
            e.name
        );
        let hash = |s: Scenario| {
            let mut sim = Simulation::new(s).unwrap();
            sim.advance_to(3_000_000);
            sim.trace_hash()
        };
        assert_eq!(hash(posed.clone()), hash(plain), "{}", e.name);
        assert_eq!(
            Scenario::from_json(&posed.to_json()).unwrap(),
            posed,
            "{}: round trip",
            e.name
        );
    }
}

fn faultline(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

#[test]
fn check_exercise_judges_links_and_files_headless() {
    let sol = solutions().into_iter().find(|s| s.name == "split-brain").unwrap();
    let s = submit(&sol.name, &sol.faults, &sol.protocol);
    let link = format!("https://example.org/#s={}", faultline::share::encode(&s, 9_000_000));
    let (code, out, err) = faultline(&["check-exercise", &link]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("goal met at 2342.017 ms\n"), "{out}");
    let dir = std::env::temp_dir().join(format!("faultline-ex-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.txt"), dir.join("b.json"));
    std::fs::write(&a, &link).unwrap();
    std::fs::write(&b, catalogue::find("split-brain").unwrap().source).unwrap();
    let (code, out, _) = faultline(&["check-exercise", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].ends_with("a.txt: goal met at 2342.017 ms"), "{out}");
    assert!(
        lines[1].contains("b.json: goal not met by 15000 ms: split_brain was never violated"),
        "{out}"
    );
    let (code, _, err) = faultline(&["check-exercise", "F1.garbage"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a readable link"), "{err}");
    let (code, out, _) = faultline(&["run", "--exercise", "split-brain", "--until", "1s"]);
    assert_eq!(code, 0);
    assert!(out.contains("goal not met by 15000 ms"), "{out}");
    std::fs::remove_dir_all(dir).ok();
}
