//! Scenario links: the codec behind `#s=…` on the page and `faultline run --scenario-url`.
//!
//! A link is `F1.` followed by base64url (no padding) of the raw-deflated JSON
//! `{"scenario": …, "t_ms": …, "epoch": …}`. The tag names the format, so a link made today
//! still opens next year: a later format gets a new tag and this decoder keeps reading `F1`.
//! `epoch` is the engine epoch the link was made with (`crate::epoch`); links made before
//! it was recorded have none and are read as the first epoch.
//! Every limit is checked before work is done: the text length before decoding, the
//! inflated size *during* decompression (a small bomb cannot grow past the cap), then the
//! scenario's own validation.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::epoch::{EPOCH, FIRST_EPOCH};
use crate::error::InputError;
use crate::limits::MAX_SCENARIO_BYTES;
use crate::scenario::Scenario;
use crate::time::{ms_to_us, us_to_ms, Micros};

/// The current format's tag.
pub const FORMAT_TAG: &str = "F1";
/// Longest link payload accepted, in characters (a large scenario is a few kB).
pub const MAX_LINK_CHARS: usize = 256 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    scenario: Scenario,
    #[serde(default)]
    t_ms: f64,
    #[serde(default = "first_epoch")]
    epoch: u32,
}

fn first_epoch() -> u32 {
    FIRST_EPOCH
}

/// A decoded link: the scenario, the moment it was shared at and the engine epoch it was
/// made with.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedRun {
    pub scenario: Scenario,
    pub t_us: Micros,
    pub epoch: u32,
}

/// Encodes a scenario and a time position as link text made by this engine's epoch.
pub fn encode(scenario: &Scenario, t_us: Micros) -> String {
    encode_with_epoch(scenario, t_us, EPOCH)
}

/// Encodes a scenario and a time position as link text (without `#s=`) stamped with
/// `epoch`: [`encode`] for this engine's runs; another epoch only for test fixtures.
pub fn encode_with_epoch(scenario: &Scenario, t_us: Micros, epoch: u32) -> String {
    let payload = Payload {
        scenario: scenario.clone(),
        t_ms: us_to_ms(t_us),
        epoch,
    };
    let json = serde_json::to_vec(&payload).expect("a scenario always serializes");
    let deflated = miniz_oxide::deflate::compress_to_vec(&json, 9);
    format!("{FORMAT_TAG}.{}", URL_SAFE_NO_PAD.encode(deflated))
}

/// Decodes link text: a whole URL, a fragment (`#s=…` or `s=…`) or the bare payload.
pub fn decode(text: &str) -> Result<SharedRun, InputError> {
    let payload = strip_to_payload(text.trim());
    if payload.len() > MAX_LINK_CHARS {
        let problem = format!(
            "the link is {} characters long; the limit is {MAX_LINK_CHARS}",
            payload.len()
        );
        return Err(InputError::new("link", problem));
    }
    let (tag, body) = payload.split_once('.').ok_or_else(|| {
        InputError::new(
            "link",
            "it has no format tag (it should start with F1.): was it cut short?",
        )
    })?;
    if tag != FORMAT_TAG {
        let problem = format!("it uses format `{tag}`, which this version of Faultline does not know");
        return Err(InputError::new("link", problem));
    }
    let deflated = URL_SAFE_NO_PAD.decode(body.trim_end_matches('=')).map_err(|e| {
        InputError::new(
            "link",
            format!("it is not valid base64url ({e}): was it cut short or edited?"),
        )
    })?;
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&deflated, MAX_SCENARIO_BYTES).map_err(|e| {
        let problem = match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                format!("it inflates to more than {MAX_SCENARIO_BYTES} bytes, the limit for a scenario")
            }
            _ => "its compressed data is damaged: was it cut short or edited?".to_string(),
        };
        InputError::new("link", problem)
    })?;
    let text = std::str::from_utf8(&json).map_err(|_| InputError::new("link", "it does not hold text"))?;
    let de = &mut serde_json::Deserializer::from_str(text);
    let payload: Payload = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        InputError::new(if path == "." { String::new() } else { path }, e.inner().to_string())
    })?;
    payload.scenario.validate()?;
    let t_us = ms_to_us(payload.t_ms, "t_ms")?;
    Ok(SharedRun {
        scenario: payload.scenario,
        t_us,
        epoch: payload.epoch,
    })
}

/// Accepts `https://…/#s=F1.…`, `#s=F1.…`, `s=F1.…` or `F1.…`.
fn strip_to_payload(text: &str) -> &str {
    let fragment = text.rsplit_once('#').map_or(text, |(_, f)| f);
    let fragment = fragment.strip_prefix("s=").unwrap_or(fragment);
    // A comparison's link (`s=LINK&vs=LINK`, compare mode): its first run.
    fragment.split('&').next().unwrap_or(fragment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::Fault;
    use crate::scenario::ScheduledFault;

    fn dozen_faults() -> Scenario {
        let mut s = Scenario::basic(5, 123_456_789);
        let faults = [
            Fault::Crash { node: 1 },
            Fault::Restart { node: 1 },
            Fault::Pause {
                node: 2,
                duration_ms: 300.0,
            },
            Fault::Partition {
                groups: vec![vec![0, 1], vec![2, 3, 4]],
            },
            Fault::Heal,
            Fault::Cut { from: 0, to: 3 },
            Fault::Uncut { from: 0, to: 3 },
            Fault::Omission {
                node: 4,
                send: 0.5,
                receive: 0.0,
            },
            Fault::ClockJump {
                node: 3,
                by_ms: -1_500.0,
            },
            Fault::Isolate { node: 0 },
            Fault::Gray {
                node: 2,
                fail: 0.8,
                slow_ms: 0.0,
            },
            Fault::Crash { node: 4 },
        ];
        for (i, fault) in faults.into_iter().enumerate() {
            s.faults.push(ScheduledFault::at(1_000.0 + 537.25 * i as f64, fault));
        }
        s
    }

    #[test]
    fn round_trip_and_compact() {
        let s = dozen_faults();
        let link = encode(&s, 4_321_500);
        assert!(
            link.len() < 1_000,
            "a 5-node scenario with a dozen faults is {} characters",
            link.len()
        );
        let back = decode(&format!("https://example.org/faultline/#s={link}")).unwrap();
        assert_eq!(
            back,
            SharedRun {
                scenario: s,
                t_us: 4_321_500,
                epoch: EPOCH,
            }
        );
    }

    #[test]
    fn a_comparison_link_reads_as_its_first_run() {
        let s = dozen_faults();
        let mut other = s.clone();
        other.name = "variant".to_string();
        let text = format!(
            "https://example.org/#s={}&vs={}",
            encode(&s, 1_000),
            encode(&other, 1_000)
        );
        assert_eq!(decode(&text).unwrap().scenario, s);
    }

    #[test]
    fn links_record_their_epoch_and_old_links_are_the_first_epoch() {
        let s = Scenario::basic(3, 9);
        assert_eq!(decode(&encode_with_epoch(&s, 0, 0)).unwrap().epoch, 0);
        assert_eq!(decode(&encode(&s, 0)).unwrap().epoch, EPOCH);
        let old = serde_json::json!({ "scenario": s, "t_ms": 12.5 });
        let deflated = miniz_oxide::deflate::compress_to_vec(old.to_string().as_bytes(), 9);
        let run = decode(&format!("F1.{}", URL_SAFE_NO_PAD.encode(deflated))).unwrap();
        assert_eq!((run.epoch, run.t_us), (FIRST_EPOCH, 12_500));
    }

    #[test]
    fn hostile_links_are_refused_with_a_reason() {
        let good = encode(&Scenario::basic(3, 1), 0);
        let cases = [
            ("#s=F1.@@@", "not valid base64url"),
            ("#s=F9.AAAA", "format `F9`"),
            ("#s=AAAA", "no format tag"),
            (&good[..good.len() / 2], "cut short"),
            ("F1.AAAAAAAA", "damaged"),
        ];
        for (link, needle) in cases {
            let err = decode(link).unwrap_err().to_string();
            assert!(err.contains(needle), "{link}: `{err}` should mention `{needle}`");
        }
        let huge = "F1.".to_string() + &"A".repeat(MAX_LINK_CHARS + 1);
        assert!(decode(&huge).unwrap_err().to_string().contains("characters long"));
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_cap() {
        let bomb = miniz_oxide::deflate::compress_to_vec(&vec![b' '; 50 * MAX_SCENARIO_BYTES], 9);
        assert!(bomb.len() < 100_000, "the bomb itself is small: {}", bomb.len());
        let link = format!("F1.{}", URL_SAFE_NO_PAD.encode(bomb));
        assert!(decode(&link).unwrap_err().to_string().contains("inflates to more than"));
    }

    #[test]
    fn a_scenario_over_the_limits_is_refused_by_validation() {
        let mut s = Scenario::basic(3, 1);
        s.nodes = 1_000_000;
        let json = serde_json::to_vec(&Payload {
            scenario: s,
            t_ms: 0.0,
            epoch: EPOCH,
        })
        .unwrap();
        let link = format!(
            "F1.{}",
            URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(&json, 9))
        );
        assert!(decode(&link)
            .unwrap_err()
            .to_string()
            .starts_with("nodes: must be between 1 and"));
    }
}
