//! The event queue, ordered by (time, sequence number), and the messages in flight.
//!
//! Invariant: events pop in (time, seq) order and seq numbers are unique and increasing,
//! so equal-time events run in the order they were scheduled: the run is deterministic.
//! A message in flight lives inside its `Deliver` or `Lose` event (no side table to miss
//! in cache), so iterating the queue lists every message on the wire.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::causal::Stamp;
use crate::limits::MAX_QUEUED_EVENTS;
use crate::network::NodeId;
use crate::protocol::TimerTag;
use crate::time::Micros;

/// One message on the wire (or held at a paused or slow receiver).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flight<M> {
    /// Who really sent it.
    pub from: NodeId,
    /// Who it claims to come from (differs only when forged).
    pub claimed_from: NodeId,
    pub to: NodeId,
    pub sent_us: Micros,
    pub deliver_us: Micros,
    pub msg: M,
    /// Sent by a Byzantine node in its Byzantine way (forged, equivocated, corrupted, lied).
    pub byzantine: bool,
    /// Already waited out the receiver's slowness: process on arrival.
    pub slowed: bool,
    /// The sender's causal stamp: message id and Lamport time.
    pub stamp: Stamp,
    /// Where the sender's vector clock is parked (`engine::causal`; `NO_SLOT`: none).
    pub slot: u32,
}

/// A protocol timer. It fires when the node's local clock reads `local_at_us`; the event's
/// queue time is that moment in global time as computed in clock epoch `epoch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer {
    pub node: NodeId,
    pub incarnation: u32,
    pub epoch: u32,
    pub tag: TimerTag,
    pub local_at_us: Micros,
    /// Already waited out the node's slowness: run on arrival.
    pub slowed: bool,
}

/// Something that happens at a simulated time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<M> {
    /// The message reaches its destination.
    Deliver(Flight<M>),
    /// The doomed message dies on the wire, half way.
    Lose(Flight<M>),
    /// A protocol timer fires.
    Timer(Timer),
    /// The pause `pause_id` of `node` ends.
    Resume { node: NodeId, pause_id: u32 },
    /// A timed fault ends: undo entry `id` of the world's revert table.
    Revert { id: u32 },
    /// Clock strobe `strobe_id` of `node` flips to offset B (`to_b`) or back to A.
    ClockFlip { node: NodeId, strobe_id: u32, to_b: bool },
    /// Flapping link `id` changes state.
    Flap { id: u32 },
}

#[derive(Clone, Debug)]
struct Queued<M> {
    at_us: Micros,
    seq: u64,
    event: Event<M>,
}

impl<M> PartialEq for Queued<M> {
    fn eq(&self, other: &Self) -> bool {
        (self.at_us, self.seq) == (other.at_us, other.seq)
    }
}
impl<M> Eq for Queued<M> {}
impl<M> PartialOrd for Queued<M> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<M> Ord for Queued<M> {
    /// Reversed, so the max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at_us, other.seq).cmp(&(self.at_us, self.seq))
    }
}

/// Width of one wheel bucket: 2^10 µs ≈ 1 ms.
const BUCKET_SHIFT: u32 = 10;
/// Buckets in the wheel: a horizon of about 4.2 simulated seconds.
const WHEEL_BUCKETS: u64 = 4096;
/// Largest key buffer (in keys) the current bucket, or the bucket sort, keeps for the next
/// bucket; the events' own vector goes back to its slot (`SPARE_SLOTS_MAX`).
const NEAR_KEEP_MAX: usize = 4_096;
/// The `seq` of a current-bucket event already popped (its event is a placeholder).
const TAKEN: u64 = u64::MAX;
/// Buckets with at least this many events are sorted by counting (`counting_sort`).
const COUNTING_SORT_MIN: usize = 512;
/// Largest buffer (in events) a drained bucket hands on to a later one.
const SPARE_SLOTS_MAX: usize = 256;

/// The current bucket's entry, packed in one word: the event's offset in the bucket (µs,
/// below 2^BUCKET_SHIFT) above its index in `EventQueue::near_events`, inverted so that a
/// larger key is an earlier event. Within a bucket the index order of events at the same
/// microsecond is their `seq` order (see `EventQueue`), so comparing these words is
/// comparing (time, seq): sorting and sifting move and compare 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key(u64);

impl Key {
    fn new(at_us: Micros, index: usize) -> Key {
        let offset = at_us & ((1 << BUCKET_SHIFT) - 1);
        assert!(index <= u32::MAX as usize, "a bucket holds at most 2^32 events");
        Key(!(offset << 32 | index as u64))
    }

    fn offset_us(self) -> Micros {
        !self.0 >> 32
    }

    fn index(self) -> usize {
        (!self.0 & u64::from(u32::MAX)) as usize
    }
}

/// Picks every `stride`-th item across a sequence of slices, jumping within each.
pub struct Sampler {
    stride: usize,
    /// Items to skip at the start of the next slice.
    skip: usize,
}

impl Sampler {
    pub fn new(stride: usize) -> Sampler {
        assert!(stride >= 1, "a stride of at least one item");
        Sampler { stride, skip: 0 }
    }

    pub fn visit<T>(&mut self, items: &[T], mut f: impl FnMut(&T)) {
        let mut i = self.skip;
        while i < items.len() {
            f(&items[i]);
            i += self.stride;
        }
        self.skip = i - items.len();
    }
}

/// Sorts a bucket's keys (one copy of the code for every message type): ascending under
/// `Key`'s reversed order, so the earliest event is last.
#[derive(Clone, Debug, Default)]
struct BucketSort {
    /// Counting sort's scratch: where each offset's run ends, and the sorted keys.
    run_ends: Vec<u32>,
    sorted: Vec<Key>,
}

impl BucketSort {
    fn sort(&mut self, keys: &mut Vec<Key>) {
        if keys.len() < COUNTING_SORT_MIN {
            keys.sort_unstable();
        } else {
            self.counting_sort(keys);
        }
    }

    /// Sorts a big bucket's keys by offset alone, in time linear in the bucket: keys come
    /// in index order, which is the tie-break, so a counting sort on the 2^BUCKET_SHIFT
    /// offsets gives exactly `sort_unstable`'s order (keys are distinct). A thousand
    /// nodes make buckets of 10^5 events, where a comparison sort took ~17 compares each.
    fn counting_sort(&mut self, keys: &mut Vec<Key>) {
        // Latest offset first, and within an offset latest index first: `run_ends[o]` is
        // where offset o's run ends, and each key (in ascending index order) takes the
        // last free place of its run.
        let ends = &mut self.run_ends;
        ends.clear();
        ends.resize(1 << BUCKET_SHIFT, 0);
        for k in keys.iter() {
            ends[k.offset_us() as usize] += 1;
        }
        let mut end = 0;
        for count in ends.iter_mut().rev() {
            end += *count;
            *count = end;
        }
        let sorted = &mut self.sorted;
        sorted.clear();
        sorted.resize(keys.len(), Key(0));
        for &k in keys.iter() {
            let slot = &mut ends[k.offset_us() as usize];
            *slot -= 1;
            sorted[*slot as usize] = k;
        }
        debug_assert!(sorted.is_sorted());
        std::mem::swap(keys, sorted);
        if self.sorted.capacity() > NEAR_KEEP_MAX {
            self.sorted = Vec::new();
        }
    }

    fn approx_bytes(&self) -> usize {
        self.run_ends.capacity() * 4 + self.sorted.capacity() * std::mem::size_of::<Key>()
    }
}

/// A timing wheel with exact order. Events in the current bucket sit in a vector, with
/// keys pointing into it; later buckets within the horizon are unsorted vectors (O(1)
/// push, cache-friendly; a slot's vector becomes the current one without a copy);
/// events past the horizon wait in a far heap. A bucket's keys are
/// sorted once when it becomes current and popped from the end; events pushed into the
/// current bucket while it drains go to a small heap, and each pop takes the earlier of
/// the two. So the (time, seq) order is exactly that of one big heap, while a thousand
/// events a millisecond cost one sort, not a thousand heap sifts.
///
/// Invariant: events at the same microsecond sit in `near_events` in `seq` order, so a key
/// needs no `seq`. A slot's vector receives the far heap's events for its bucket first (in
/// (time, seq) order, when the bucket enters the horizon, before anything can be pushed
/// there directly) and then direct pushes (in `seq` order, all later than any far event);
/// events pushed while the bucket drains come after all of them in both orders.
#[derive(Debug)]
pub struct EventQueue<M> {
    /// The current bucket's keys as it became current, latest first (pop from the end).
    near: Vec<Key>,
    /// Keys of events pushed into the current bucket after it became current.
    late: BinaryHeap<Key>,
    /// The current bucket's events (its slot's vector, as it was); `seq == TAKEN` once
    /// popped.
    near_events: Vec<Queued<M>>,
    wheel: Vec<Vec<Queued<M>>>,
    far: BinaryHeap<Queued<M>>,
    /// Bucket index (time >> BUCKET_SHIFT) that `near` holds.
    current: u64,
    sorter: BucketSort,
    wheel_len: usize,
    len: usize,
    next_seq: u64,
}

impl<M> Default for EventQueue<M> {
    fn default() -> Self {
        EventQueue {
            near: Vec::new(),
            late: BinaryHeap::new(),
            near_events: Vec::new(),
            wheel: (0..WHEEL_BUCKETS).map(|_| Vec::new()).collect(),
            far: BinaryHeap::new(),
            current: 0,
            sorter: BucketSort::default(),
            wheel_len: 0,
            len: 0,
            next_seq: 0,
        }
    }
}

/// A copy for a checkpoint: most of the wheel's 4,096 slots are empty (and keep only a
/// spare buffer), so they become new empty vectors without a call to clone each; the
/// sorter's scratch is not copied.
impl<M: Clone> Clone for EventQueue<M> {
    fn clone(&self) -> Self {
        let mut wheel = Vec::with_capacity(self.wheel.len());
        wheel.resize_with(self.wheel.len(), Vec::new);
        for (i, slot) in self.wheel.iter().enumerate() {
            if !slot.is_empty() {
                wheel[i] = slot.clone();
            }
        }
        EventQueue {
            near: self.near.clone(),
            late: self.late.clone(),
            near_events: self.near_events.clone(),
            wheel,
            far: self.far.clone(),
            current: self.current,
            sorter: BucketSort::default(),
            wheel_len: self.wheel_len,
            len: self.len,
            next_seq: self.next_seq,
        }
    }
}

impl<M> EventQueue<M> {
    pub fn push(&mut self, at_us: Micros, event: Event<M>) {
        assert!(
            self.len < MAX_QUEUED_EVENTS,
            "event queue over its bound of {MAX_QUEUED_EVENTS}"
        );
        let seq = self.next_seq;
        self.next_seq += 1;
        self.len += 1;
        self.place(Queued { at_us, seq, event });
    }

    fn place(&mut self, q: Queued<M>) {
        let bucket = q.at_us >> BUCKET_SHIFT;
        assert!(
            bucket >= self.current,
            "an event at {} µs lands before the current bucket",
            q.at_us
        );
        if bucket == self.current {
            self.push_near(q);
        } else if bucket < self.current + WHEEL_BUCKETS {
            self.wheel[(bucket % WHEEL_BUCKETS) as usize].push(q);
            self.wheel_len += 1;
        } else {
            self.far.push(q);
        }
    }

    #[inline]
    fn push_near(&mut self, q: Queued<M>) {
        let key = Key::new(q.at_us, self.near_events.len());
        self.near_events.push(q);
        self.late.push(key);
    }

    /// Pops the earliest event if it is due at or before `limit_us`.
    #[inline]
    pub fn pop_due(&mut self, limit_us: Micros) -> Option<(Micros, Event<M>)> {
        loop {
            // Under `Key`'s order the earlier event is the greater.
            let top = match (self.near.last(), self.late.peek()) {
                (Some(&a), Some(&b)) => Some(a.max(b)),
                (a, b) => a.or(b).copied(),
            };
            if let Some(top) = top {
                let at_us = self.current << BUCKET_SHIFT | top.offset_us();
                if at_us > limit_us {
                    return None;
                }
                self.len -= 1;
                let key = if self.near.last() == Some(&top) {
                    self.near.pop()
                } else {
                    self.late.pop()
                };
                debug_assert_eq!(key, Some(top));
                let q = &mut self.near_events[top.index()];
                assert!(q.seq != TAKEN, "a key points at an event not yet popped");
                q.seq = TAKEN;
                return Some((at_us, std::mem::replace(&mut q.event, Event::Flap { id: 0 })));
            }
            if !self.advance(limit_us >> BUCKET_SHIFT) {
                return None;
            }
        }
    }

    /// Moves to the next bucket that may hold events, up to `limit_bucket`. Returns false
    /// when there is nothing at or before `limit_bucket`.
    fn advance(&mut self, limit_bucket: u64) -> bool {
        if self.len == 0 || self.current >= limit_bucket {
            return false;
        }
        self.current = if self.wheel_len == 0 {
            // Nothing within the horizon: jump straight to the far heap's first bucket.
            let far_first = self.far.peek().map_or(limit_bucket, |q| q.at_us >> BUCKET_SHIFT);
            far_first.min(limit_bucket)
        } else {
            self.current + 1
        };
        // Far events now within the horizon go to their wheel slots — the current one too,
        // which is drained next.
        while let Some(q) = self.far.peek() {
            let bucket = q.at_us >> BUCKET_SHIFT;
            if bucket >= self.current + WHEEL_BUCKETS {
                break;
            }
            let q = self.far.pop().expect("peeked");
            self.wheel[(bucket % WHEEL_BUCKETS) as usize].push(q);
            self.wheel_len += 1;
        }
        let slot = (self.current % WHEEL_BUCKETS) as usize;
        if self.wheel[slot].is_empty() {
            self.enter_empty_bucket();
            return true;
        }
        let bucket = std::mem::take(&mut self.wheel[slot]);
        self.wheel_len -= bucket.len();
        // The bucket's events become the current ones as they lie; the drained buffer goes
        // back to this slot, used again a horizon later, unless big: every slot would keep
        // its busiest bucket's capacity (4 096 of them: gigabytes for a thousand nodes).
        let mut spent = std::mem::replace(&mut self.near_events, bucket);
        spent.clear();
        if spent.capacity() <= SPARE_SLOTS_MAX {
            self.wheel[slot] = spent;
        }
        let mut keys = std::mem::take(&mut self.near);
        keys.clear();
        self.late.clear();
        if keys.capacity() > NEAR_KEEP_MAX {
            // One huge bucket (a thousand nodes booting at once) must not pin its size.
            keys = Vec::new();
        }
        keys.extend(self.near_events.iter().enumerate().map(|(i, q)| Key::new(q.at_us, i)));
        if keys.len() > 1 {
            self.sorter.sort(&mut keys);
        }
        self.near = keys;
        true
    }

    /// The current bucket became one with no events (most milliseconds of a small cluster
    /// are): the drained bucket's events, all popped, go, with the same bounds on what
    /// their buffers keep, and there is nothing to sort.
    fn enter_empty_bucket(&mut self) {
        debug_assert!(self.near.is_empty() && self.late.is_empty());
        if self.near_events.capacity() > SPARE_SLOTS_MAX {
            self.near_events = Vec::new();
        } else {
            self.near_events.clear();
        }
        if self.near.capacity() > NEAR_KEEP_MAX {
            self.near = Vec::new();
        }
        self.late.clear();
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Heap bytes kept: every bucket's buffer and both heaps, plus what each event's
    /// message owns (`heap_of`).
    pub fn approx_bytes(&self, heap_of: impl Fn(&Event<M>) -> usize) -> usize {
        let slot = std::mem::size_of::<Queued<M>>();
        let near = self.sorter.approx_bytes()
            + (self.near.capacity() + self.late.capacity()) * std::mem::size_of::<Key>()
            + self.near_events.capacity() * slot;
        // One pass over the wheel's slots for their buffers and their events' heaps.
        let wheel: usize = self.wheel.iter().map(Vec::capacity).sum();
        let mut heap = 0;
        for bucket in &self.wheel {
            if !bucket.is_empty() {
                heap += bucket.iter().map(|q| heap_of(&q.event)).sum::<usize>();
            }
        }
        let spine = self.wheel.capacity() * std::mem::size_of::<Vec<Queued<M>>>();
        let near_heap: usize = (self.near_events.iter().filter(|q| q.seq != TAKEN))
            .map(|q| heap_of(&q.event))
            .sum();
        let far_heap: usize = self.far.iter().map(|q| heap_of(&q.event)).sum();
        near + (self.far.capacity() + wheel) * slot + spine + heap + near_heap + far_heap
    }

    /// Every `stride`-th pending event, in no particular order (the same order as `iter`),
    /// in time proportional to what it returns plus the wheel's slots: the canvas samples a
    /// million messages in flight without walking them all.
    pub fn for_each_sampled(&self, stride: usize, mut f: impl FnMut(&Event<M>)) {
        let mut sampler = Sampler::new(stride);
        sampler.visit(&self.near_events, |q| {
            if q.seq != TAKEN {
                f(&q.event)
            }
        });
        for slot in &self.wheel {
            sampler.visit(slot, |q| f(&q.event));
        }
        sampler.visit(self.far.as_slice(), |q| f(&q.event));
    }

    /// Every pending event, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Event<M>> {
        let near = self.near_events.iter().filter(|q| q.seq != TAKEN);
        let later = self.wheel.iter().flatten().chain(self.far.iter());
        near.chain(later).map(|q| &q.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut q = EventQueue::<()>::default();
        q.push(5, Event::Resume { node: 1, pause_id: 0 });
        q.push(3, Event::Resume { node: 2, pause_id: 0 });
        q.push(5, Event::Resume { node: 3, pause_id: 0 });
        let order: Vec<_> = std::iter::from_fn(|| q.pop_due(10)).collect();
        assert_eq!(
            order,
            vec![
                (3, Event::Resume { node: 2, pause_id: 0 }),
                (5, Event::Resume { node: 1, pause_id: 0 }),
                (5, Event::Resume { node: 3, pause_id: 0 })
            ]
        );
    }

    #[test]
    fn matches_a_plain_heap_over_random_pushes() {
        use crate::rng::Rng;
        let mut rng = Rng::from_seed(5);
        let mut q = EventQueue::<()>::default();
        let mut reference = BinaryHeap::new();
        let mut now = 0;
        for (seq, round) in (0..20_000u32).enumerate() {
            let seq = seq as u64;
            let horizon = [1, 1_000, 100_000, 30_000_000][rng.below(4) as usize];
            let mut at_us = now + rng.below(horizon);
            if rng.below(2) == 0 {
                // Coarse times: events from the far heap, from the wheel and pushed while a
                // bucket drains meet at the same microsecond, where `seq` decides.
                at_us |= 0xFFFF;
            }
            q.push(
                at_us,
                Event::Resume {
                    node: round,
                    pause_id: 0,
                },
            );
            reference.push(Queued {
                at_us,
                seq,
                event: Event::Resume {
                    node: round,
                    pause_id: 0,
                },
            });
            if rng.below(3) == 0 {
                let limit = now + rng.below(2_000_000);
                loop {
                    let expected = match reference.peek() {
                        Some(top) if top.at_us <= limit => reference.pop().map(|r| (r.at_us, r.event)),
                        _ => None,
                    };
                    assert_eq!(q.pop_due(limit), expected, "round {round}");
                    if expected.is_none() {
                        break;
                    }
                }
                now = limit;
            }
        }
        assert_eq!(q.len(), reference.len());
    }

    #[test]
    fn a_big_bucket_pops_in_the_same_order_as_a_heap() {
        use crate::rng::Rng;
        let mut rng = Rng::from_seed(9);
        let mut q = EventQueue::<()>::default();
        let mut reference = BinaryHeap::new();
        // Two big buckets: one filled directly, one past the horizon (through the far heap)
        // and then topped up directly; many events share a microsecond.
        let buckets = [7 << BUCKET_SHIFT, 50_000 << BUCKET_SHIFT];
        for seq in 0..6_000u64 {
            let base = buckets[(seq % 2) as usize];
            let at_us = base + rng.below(1 << BUCKET_SHIFT) / [1, 64][rng.below(2) as usize];
            let event = Event::Revert { id: seq as u32 };
            q.push(at_us, event.clone());
            reference.push(Queued { at_us, seq, event });
        }
        let first: Vec<_> = std::iter::from_fn(|| q.pop_due(buckets[1] - 1)).collect();
        assert_eq!(first.len(), 3_000);
        for seq in 6_000..8_000u64 {
            let at_us = buckets[1] + rng.below(1 << BUCKET_SHIFT) / 64;
            let event = Event::Revert { id: seq as u32 };
            q.push(at_us, event.clone());
            reference.push(Queued { at_us, seq, event });
        }
        let rest = std::iter::from_fn(|| q.pop_due(u64::MAX));
        let expected: Vec<_> = std::iter::from_fn(|| reference.pop().map(|r| (r.at_us, r.event))).collect();
        assert_eq!(first.into_iter().chain(rest).collect::<Vec<_>>(), expected);
    }

    /// A lone event past the horizon, reached by jumping over the empty wheel, is popped
    /// (it lands in the bucket that becomes current).
    #[test]
    fn an_event_past_the_horizon_is_reached_by_a_jump() {
        let mut q = EventQueue::<()>::default();
        q.push(10_000_000, Event::Resume { node: 7, pause_id: 0 });
        assert_eq!(
            q.pop_due(20_000_000),
            Some((10_000_000, Event::Resume { node: 7, pause_id: 0 }))
        );
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn nothing_past_the_limit() {
        let mut q = EventQueue::<()>::default();
        q.push(5, Event::Resume { node: 0, pause_id: 0 });
        assert_eq!(q.pop_due(4), None);
        assert_eq!(q.len(), 1);
    }
}
