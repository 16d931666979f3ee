//! The command-line runner: presets, summaries, trace files and trace hashes.

use std::process::Command;

fn faultline(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn presets_lists_one_name_a_line() {
    let (ok, out, _) = faultline(&["presets"]);
    assert!(ok);
    let names: Vec<&str> = out.lines().collect();
    assert!(names.contains(&"heartbeat") && names.contains(&"partition"), "{out}");
    assert!(names.iter().all(|n| !n.contains(' ')));
}

#[test]
fn run_prints_a_summary_and_the_hash_last() {
    let (ok, out, err) = faultline(&["run", "--preset", "crash-recovery", "--until", "10s", "--trace-hash"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("scenario: Crash and recovery (5 nodes, heartbeat, seed 1)"),
        "{out}"
    );
    assert!(out.contains("ran to 10000 ms"), "{out}");
    assert_eq!(out.lines().last().unwrap(), "4d7da68991a3eaf8");
}

/// `faultline ARGS… --json`, parsed.
fn faultline_json(args: &[&str]) -> serde_json::Value {
    let (ok, out, err) = faultline(&[args, &["--json"]].concat());
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn json_summary_carries_the_numbers_and_the_hash_and_is_reproducible() {
    let args = ["run", "--preset", "crash-recovery", "--until", "10s"];
    let run = faultline_json(&args);
    assert_eq!(run["scenario"], "Crash and recovery");
    let snap = &run["snapshot"];
    assert_eq!(snap["time_ms"], 10_000.0);
    assert_eq!((snap["nodes"].as_u64(), snap["seed"].as_u64()), (Some(5), Some(1)));
    assert_eq!(snap["trace_hash"], "4d7da68991a3eaf8");
    let counters = &snap["counters"];
    assert!(counters["delivered"].as_u64().unwrap() > 1_000, "{counters}");
    assert!(counters["dropped"]["crashed"].as_u64().unwrap() > 0, "{counters}");
    assert!(run["checks"].is_array() && run["skipped_faults"].is_array());
    // No wall-clock figure in it: the same run prints the same bytes.
    assert_eq!(faultline_json(&args), run);
}

#[test]
fn seed_override_changes_the_hash() {
    let hash = |seed: &str| {
        faultline(&[
            "run",
            "--preset",
            "heartbeat",
            "--until",
            "2s",
            "--seed",
            seed,
            "--trace-hash",
        ])
        .1
    };
    assert_ne!(hash("1").lines().last(), hash("2").lines().last());
    assert_eq!(hash("2").lines().last(), hash("2").lines().last());
}

#[test]
fn trace_file_has_one_json_event_a_line_from_time_zero() {
    let dir = std::env::temp_dir().join(format!("faultline-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("s.json");
    std::fs::write(
        &scenario,
        r#"{"nodes": 3, "seed": 5, "faults": [{"at_ms": 500, "fault": {"kind": "crash", "node": 1}}]}"#,
    )
    .unwrap();
    let trace = dir.join("t.jsonl");
    let (ok, _, err) = faultline(&[
        "run",
        scenario.to_str().unwrap(),
        "--until",
        "1s",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let header = lines.remove(0);
    assert_eq!(
        header["engine_epoch"],
        faultline::epoch::EPOCH,
        "the first line names the engine epoch"
    );
    assert_eq!(lines[0]["t_us"], 0);
    assert_eq!(lines[0]["kind"], "send");
    assert!(lines
        .iter()
        .any(|e| e["kind"] == "fault" && e["t_us"] == 500_000 && e["node"] == 1));
    let times: Vec<u64> = lines.iter().map(|e| e["t_us"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "events are in time order");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_link_from_the_playground_runs_headless_to_its_moment() {
    let (ok, link, err) = faultline(&["link", "--preset", "partition", "--at", "3s"]);
    assert!(ok, "{err}");
    assert!(link.starts_with("#s=F1."), "{link}");
    let url = format!("https://example.org/faultline/{}", link.trim());
    let linked = faultline_json(&["run", "--scenario-url", &url]);
    assert_eq!(linked["snapshot"]["time_ms"], 3_000.0);
    let direct = faultline_json(&["run", "--preset", "partition", "--until", "3s"]);
    assert_eq!(linked["snapshot"]["trace_hash"], direct["snapshot"]["trace_hash"]);
    let (ok, _, err) = faultline(&["run", "--scenario-url", "#s=F1.bm90IGEgbGluaw"]);
    assert!(!ok && err.contains("--scenario-url: link:"), "{err}");
}

#[test]
fn bad_input_exits_2_with_a_message() {
    let (ok, _, err) = faultline(&["run", "--preset", "nope"]);
    assert!(!ok && err.contains("no preset named `nope`"), "{err}");
    let (ok, _, err) = faultline(&["run", "--preset", "heartbeat", "--until", "ten"]);
    assert!(!ok && err.contains("--until"), "{err}");
    let (ok, _, err) = faultline(&["run", "/nonexistent.json"]);
    assert!(!ok && err.contains("cannot read /nonexistent.json"), "{err}");
    let (ok, _, err) = faultline(&["frobnicate"]);
    assert!(!ok && err.contains("unknown command"), "{err}");
}

/// Writes `text` to a fresh file for one test and returns its path.
fn history_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("faultline-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn check_says_linearizable_for_a_correct_jepsen_log_and_names_the_stale_read_otherwise() {
    let good = "INFO  jepsen.util - 0\t:invoke\t:write\t1\nINFO  jepsen.util - 0\t:ok\t:write\t1\n\
                INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\t1\n";
    let (ok, out, err) = faultline(&["check", &history_file("good.log", good)]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().next(), Some("linearizable"), "{out}");
    let stale = format!(
        "{good}INFO  jepsen.util - 2\t:invoke\t:write\t2\nINFO  jepsen.util - 2\t:ok\t:write\t2\n\
         INFO  jepsen.util - 3\t:invoke\t:read\tnil\nINFO  jepsen.util - 3\t:ok\t:read\t1\n"
    );
    let (ok, out, err) = faultline(&["check", &history_file("stale.log", &stale)]);
    assert!(ok, "a violation is a verdict, not an error: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "not linearizable", "{out}");
    assert!(
        lines[1].starts_with("read of key 0 by client 3 returned 1 after write 2 by client 2 had completed"),
        "{out}"
    );
    assert!(out.contains("operations that cannot be ordered (key 0):"), "{out}");
}

#[test]
fn check_reads_its_own_json_lines_and_says_unknown_past_its_budget() {
    let mut text = String::from("{\"history\":\"faultline\",\"version\":1,\"initial\":0}\n");
    for c in 0..12 {
        text += &format!(
            "{{\"client\":{c},\"op\":\"write\",\"value\":{c},\"invoke_us\":0,\"complete_us\":1000,\"result\":\"ok\"}}\n"
        );
    }
    text += "{\"client\":99,\"op\":\"read\",\"value\":5,\"invoke_us\":2000,\"complete_us\":2100,\"result\":\"ok\"}\n";
    let path = history_file("overlap.jsonl", &text);
    let (ok, out, _) = faultline(&["check", &path]);
    assert!(ok);
    assert_eq!(out.lines().next(), Some("linearizable"), "{out}");
    let (ok, out, _) = faultline(&["check", &path, "--budget", "5"]);
    assert!(ok);
    assert_eq!(
        out.lines().next(),
        Some("unknown (budget exhausted after 5 states)"),
        "{out}"
    );
}

#[test]
fn check_exits_non_zero_only_for_unreadable_input_naming_the_line() {
    let bad = "INFO jepsen.util - 0 :invoke :read nil\nINFO jepsen.util - 7 :ok :read 1\n";
    let (ok, out, err) = faultline(&["check", &history_file("bad.log", bad)]);
    assert!(!ok && out.is_empty(), "{out}");
    assert!(err.contains("bad.log: line 2: unknown process 7"), "{err}");
    let (ok, _, err) = faultline(&["check", "/nonexistent/history.jsonl"]);
    assert!(!ok && err.contains("cannot read /nonexistent/history.jsonl"), "{err}");
    let (ok, _, err) = faultline(&["check", &history_file("x.log", "hello\n"), "--budget", "0"]);
    assert!(
        !ok && err.contains("--budget: `0` is not a positive whole number"),
        "{err}"
    );
}

#[test]
fn run_history_writes_the_register_clients_operations_and_check_judges_them() {
    // AP: both sides of the partition accept writes; on heal one side's vanish.
    let ap = history_file("cap-ap.jsonl", "");
    let (ok, _, err) = faultline(&["run", "--preset", "cap-ap", "--until", "20s", "--history", &ap]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&ap).unwrap();
    assert!(
        text.starts_with("{\"history\":\"faultline\",\"version\":1,\"initial\":0}\n"),
        "{text}"
    );
    assert!(text.lines().count() > 100, "{} lines", text.lines().count());
    let (ok, out, err) = faultline(&["check", &ap]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().next(), Some("not linearizable"), "{out}");
    assert!(out.contains(" returned "), "the violation is a read, in words: {out}");
    // CP: majority quorums keep it linearizable (the minority refuses).
    let cp = history_file("cap-cp.jsonl", "");
    let (ok, _, err) = faultline(&["run", "--preset", "cap-cp", "--until", "20s", "--history", &cp]);
    assert!(ok, "{err}");
    let (ok, out, err) = faultline(&["check", &cp]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().next(), Some("linearizable"), "{out}");
    // Only protocols whose clients record a history have one to write.
    let (ok, _, err) = faultline(&["run", "--preset", "crash-recovery", "--until", "1s", "--history", &cp]);
    assert!(
        !ok && err.contains("`Crash and recovery` records no client history"),
        "{err}"
    );
}

#[test]
#[allow(clippy::disallowed_types, clippy::disallowed_methods)] // wall time is the point here
fn check_stops_at_its_wall_clock_budget_and_says_unknown() {
    // Fifty clients at once with unknown outcomes: the search would run for seconds.
    let hard = faultline::history::sample::correct_register(3, 50, 20, 50);
    let path = history_file("hard.jsonl", &faultline::history::json::write(&hard));
    let started = std::time::Instant::now();
    let (ok, out, err) = faultline(&["check", &path, "--budget", "1000000000", "--time-ms", "200"]);
    let took = started.elapsed();
    assert!(ok, "{err}");
    let first = out.lines().next().unwrap_or("");
    assert!(first.starts_with("unknown (budget exhausted after "), "{out}");
    assert!(out.contains("the time budget ran out (200 ms; --time-ms)"), "{out}");
    assert!(took.as_secs_f64() < 5.0, "took {took:?}");
    let (ok, _, err) = faultline(&["check", &path, "--time-ms", "soon"]);
    assert!(
        !ok && err.contains("--time-ms: `soon` is not a positive whole number"),
        "{err}"
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    // `faultline exercises | head -1`: the reader closes the pipe while the listing is
    // written. Here the pipe has no reader at all before faultline starts (the shell waits
    // a moment, so our end is closed first), so its first write fails for sure.
    let bin = env!("CARGO_BIN_EXE_faultline");
    for args in ["exercises", "presets", "run --preset crash-recovery --until 1s"] {
        let mut child = Command::new("sh")
            .args(["-c", &format!("sleep 0.2; exec '{bin}' {args}")])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sh starts");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("faultline ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args}: {:?}, stderr: {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{args}: {stderr}");
    }
}
