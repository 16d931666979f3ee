//! How a Byzantine replica rewrites its writes (see `crate::byzantine`): it lies about
//! when it wrote, stamping a write far in the future so that last-write-wins keeps it
//! over everything that follows.

use super::*;
use crate::byzantine::Byzantine;

/// How far ahead a lying replica stamps its writes (µs).
const LIE_AHEAD_US: Micros = 60_000_000;

impl Byzantine for Kv {
    fn equivocate(msg: &KvMsg, to: NodeId) -> KvMsg {
        let KvMsg::Write(v) = msg;
        let mut v = v.clone();
        v.physical_us += to as Micros;
        v.hlc.c += to;
        KvMsg::Write(v)
    }
    fn corrupt(msg: &KvMsg, noise: u64) -> KvMsg {
        let KvMsg::Write(v) = msg;
        let mut v = v.clone();
        v.key ^= (noise as u32) | 1;
        KvMsg::Write(v)
    }
    fn lie(msg: &KvMsg) -> KvMsg {
        let KvMsg::Write(v) = msg;
        let mut v = v.clone();
        v.physical_us += LIE_AHEAD_US;
        v.hlc.l += LIE_AHEAD_US;
        KvMsg::Write(v)
    }
}
