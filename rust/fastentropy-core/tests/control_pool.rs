//! `Control::run` keeps the pool of its last thread count. A binary of its own: the unit
//! tests run in parallel and would replace the kept pool between the two calls compared here.

use std::collections::BTreeSet;
use std::sync::Mutex;

use fastentropy_core::Control;

/// The ids of the threads a `threads = t` call runs its parallel work on.
fn workers(t: usize) -> BTreeSet<String> {
    Control::with_threads(Some(t))
        .run(|| {
            let ids = Mutex::new(BTreeSet::new());
            rayon::broadcast(|_| {
                let id = format!("{:?}", std::thread::current().id());
                ids.lock().unwrap().insert(id);
            });
            Ok(ids.into_inner().unwrap())
        })
        .unwrap()
}

#[test]
fn calls_with_the_same_thread_count_share_their_threads() {
    let first = workers(3);
    assert_eq!(first.len(), 3);
    assert_eq!(workers(3), first);
    assert!(workers(2).is_disjoint(&first));
}
