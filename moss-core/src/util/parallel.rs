//! The ordered parallel map: a job per item on a bounded number of scoped
//! threads, results in the order of the items.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// The number of CPUs this process may use (1 when unknown).
pub fn available_cpus() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

/// Applies `job` to every item with at most `max_threads` running at once;
/// the results come back in the order of `items`.
pub fn map_ordered<T, R, F>(items: &[T], max_threads: usize, job: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    map_ordered_with(items, max_threads, || (), |_, item| job(item))
}

/// [`map_ordered`] where each worker thread first makes its own state with
/// `init` (a parser, an engine) and passes it to every job it runs.
pub fn map_ordered_with<T, S, R, I, F>(items: &[T], max_threads: usize, init: I, job: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &T) -> R + Sync,
{
    let next = AtomicUsize::new(0);
    let workers = max_threads.clamp(1, items.len().max(1));
    // Each worker keeps its (index, result) pairs; no lock between jobs. A
    // panicking job panics the scope, so every index is filled afterwards.
    let done: Vec<Vec<(usize, R)>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut state = init();
                    let mut out = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(index) else { break };
                        out.push((index, job(&mut state, item)));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    // Every index below items.len() was taken by exactly one worker: put
    // the results back in the items' order.
    let mut done: Vec<(usize, R)> = done.into_iter().flatten().collect();
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_bounds_threads() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let items: Vec<u32> = (0..40).collect();
        let out = map_ordered(&items, 3, |i| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            thread::yield_now();
            running.fetch_sub(1, Ordering::SeqCst);
            i * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert!(map_ordered(&Vec::<u8>::new(), 8, |_| 0).is_empty());
    }

    #[test]
    fn each_worker_makes_its_state_once() {
        let made = AtomicUsize::new(0);
        let items: Vec<u32> = (0..100).collect();
        let out = map_ordered_with(
            &items,
            4,
            || {
                made.fetch_add(1, Ordering::SeqCst);
                0u32
            },
            |seen, i| {
                *seen += 1;
                i + 1
            },
        );
        assert_eq!(out, (1..=100).collect::<Vec<_>>());
        assert!(made.load(Ordering::SeqCst) <= 4);
    }
}
