//! `faultline check-exercise LINK_OR_FILE…`: judges submitted exercise runs headless (a
//! share link, a file holding one, or a scenario file), so a teacher can grade a folder of
//! links; `faultline exercises` lists the built-in exercises.

use faultline::exercise::catalogue::EXERCISES;
use faultline::exercise::judge::{judge, Judgement};
use faultline::Scenario;

pub const USAGE: &str = "\
EXERCISES:
    faultline exercises                            list the built-in exercises
    faultline run --exercise NAME [OPTIONS]        run a built-in exercise as posed
    faultline check-exercise LINK_OR_FILE… [--json]
        judge submitted runs: each a share link (a URL, #s=… or F1.…), a file holding
        one, or a scenario file with an `exercise`. Prints `goal met at T ms`, or which
        part of the goal was not met, or which rule was broken. Exit status 0 when every
        input was judged (met or not); 2 when an input cannot be read.
";

pub fn list() -> Result<(), String> {
    for e in EXERCISES {
        let info = e.info();
        outln!("{:24} {} — {}", info.name, info.title, info.task);
    }
    Ok(())
}

pub fn main(args: &[String]) -> Result<(), String> {
    let json = args.iter().any(|a| a == "--json");
    let inputs: Vec<&String> = args.iter().filter(|a| *a != "--json").collect();
    if let Some(flag) = inputs.iter().find(|a| a.starts_with("--")) {
        return Err(format!("unknown option `{flag}`\n\n{USAGE}"));
    }
    if inputs.is_empty() {
        return Err(format!("give a link or a file to judge\n\n{USAGE}"));
    }
    let mut failures = Vec::new();
    for input in &inputs {
        match read(input).and_then(|s| judge(&s).map_err(|e| e.to_string())) {
            Ok(j) => print(input, &j, inputs.len() > 1, json),
            Err(e) => failures.push(format!("{input}: {e}")),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

fn print(input: &str, judgement: &Judgement, many: bool, json: bool) {
    if json {
        let line = serde_json::json!({ "input": input, "judgement": judgement });
        outln!("{line}");
        return;
    }
    if many {
        outln!("{input}: {}", judgement.headline);
    } else {
        judgement.lines().iter().for_each(|l| outln!("{l}"));
    }
}

/// A submission: link text, a file holding a link, or a scenario file.
pub fn read(input: &str) -> Result<Scenario, String> {
    let looks_like_link = |t: &str| {
        let t = t.trim();
        t.starts_with("F1.") || t.contains("#s=") || t.starts_with("s=") || t.starts_with("http")
    };
    if looks_like_link(input) {
        return decode(input);
    }
    let text = std::fs::read_to_string(input).map_err(|e| format!("cannot read it: {e}"))?;
    if text.trim_start().starts_with('{') {
        return Scenario::from_json(&text).map_err(|e| e.to_string());
    }
    decode(&text)
}

fn decode(text: &str) -> Result<Scenario, String> {
    faultline::share::decode(text)
        .map(|run| run.scenario)
        .map_err(|e| format!("not a readable link: {e}"))
}
