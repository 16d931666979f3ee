//! Memory soaks with time travel on: `cargo xtask soak` (or `cargo run --release --example
//! soak -- [--short]`). (1) The 1 000-node heartbeat preset for 60 simulated seconds must
//! stay under the byte budget; (2) five nodes for 24 simulated hours must stay flat. Prints
//! the high-water marks: the engine's count and the allocator's measured live bytes.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // wall time is reported, never simulated

#[path = "../tests/support/soak.rs"]
mod soak;

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::time::Instant;

struct Counting;
static LIVE: AtomicI64 = AtomicI64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as i64 - layout.size() as i64, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> i64 {
    LIVE.load(Relaxed)
}

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / (1 << 20) as f64)
}

fn print(name: &str, r: &soak::Report, wall: Instant) {
    println!(
        "{name}: high water {} counted by the engine, {} measured live; budget {}; {} samples; {:.0} s wall",
        mib(r.used_high_water as f64),
        mib(r.measured_high_water as f64),
        mib(r.budget_bytes as f64),
        r.samples.len(),
        wall.elapsed().as_secs_f64()
    );
}

fn main() -> ExitCode {
    let short = std::env::args().any(|a| a == "--short");
    let (large_ms, hours) = if short { (5_000.0, 2) } else { (60_000.0, 24) };
    let wall = Instant::now();
    let large = soak::soak(soak::large_cluster(), large_ms, 1_000.0, live);
    print(
        &format!("large-cluster, {} simulated s", large_ms / 1000.0),
        &large,
        wall,
    );
    let wall = Instant::now();
    let five = soak::soak(soak::five_nodes_for(hours), hours as f64 * 3_600_000.0, 600_000.0, live);
    print(&format!("5 nodes, {hours} simulated h"), &five, wall);
    let under = large.used_high_water <= large.budget_bytes && large.measured_high_water as u64 <= large.budget_bytes;
    let flat = soak::is_flat(&five, 1.25);
    println!("under budget: {under}; flat: {flat}");
    if under && flat {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
