//! Work spread over the machine's cores, results kept in input order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `items.iter().map(f).collect()` on every core: each thread takes the
/// next item not yet taken, so one slow item does not leave the other
/// cores idle. A panic in `f` is raised again here.
pub fn map_in_order<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let order: Vec<usize> = (0..items.len()).collect();
    map_in_order_by(items, &order, f)
}

/// [`map_in_order`], taking the items in the order `order` gives (a
/// permutation of their indexes), the results still in input order. Reading
/// the largest files first lets their buffers go before the decoded state
/// has grown, instead of on top of it at the end.
pub fn map_in_order_by<T: Sync, R: Send>(
    items: &[T],
    order: &[usize],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    assert_eq!(
        order.len(),
        items.len(),
        "order is a permutation of the items"
    );
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if workers <= 1 {
        let mut results: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
        for &i in order {
            results[i] = Some(f(&items[i]));
        }
        return results
            .into_iter()
            .map(|r| r.expect("every item is mapped once"))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(n) else { break };
                    let item = &items[i];
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
        .map(|r| r.expect("every item is mapped once"))
        .collect()
}

/// `(a(), b())`, `b` on a second core when there is one. A panic in either
/// is raised again here.
pub fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) <= 1 {
        return (a(), b());
    }
    std::thread::scope(|s| {
        let b = s.spawn(b);
        let a = a();
        let b = b
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a, b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_gives_both_results_and_raises_either_panic() {
        let data = [1, 2, 3];
        let (sum, len) = join(|| data.iter().sum::<i32>(), || data.len());
        assert_eq!((sum, len), (6, 3));
        let panicked = std::panic::catch_unwind(|| join(|| 1, || -> i32 { panic!("in b") }));
        let message = panicked.unwrap_err();
        assert_eq!(message.downcast_ref::<&str>(), Some(&"in b"));
    }

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
    fn a_chosen_order_still_returns_input_order() {
        let items: Vec<u64> = (0..50).collect();
        let order: Vec<usize> = (0..50).rev().collect();
        let taken = Mutex::new(Vec::new());
        let out = map_in_order_by(&items, &order, |&i| {
            taken.lock().unwrap().push(i);
            i + 1
        });
        assert_eq!(out, (1..=50).collect::<Vec<u64>>());
        // Taken from the back: the first item taken was the last one.
        assert_eq!(taken.lock().unwrap()[0], 49);
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
