//! Work spread over the machine's cores, results kept in input order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `items.iter().map(f).collect()` on every core: each thread takes the
/// next item not yet taken, so one slow item does not leave the other
/// cores idle. A panic in `f` is raised again here.
pub fn map_in_order<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                })
            })
            .collect();
        for t in threads {
            if let Err(panic) = t.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item is mapped"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order_whatever_finishes_first() {
        let items: Vec<u64> = (0..200).collect();
        // Early items take longest, so they finish last.
        let out = map_in_order(&items, |&i| {
            std::thread::sleep(std::time::Duration::from_micros((200 - i) * 20));
            i * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(map_in_order(&[] as &[u8], |&b| b).is_empty());
    }

    #[test]
    #[should_panic(expected = "item 7")]
    fn a_panic_is_raised_again() {
        map_in_order(&(0..20).collect::<Vec<_>>(), |&i| {
            if i == 7 {
                panic!("item 7");
            }
        });
    }
}
