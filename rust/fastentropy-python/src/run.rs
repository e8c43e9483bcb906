//! The one way into long core work from Python.
//!
//! [`detached`] runs the work on a scoped worker thread with the GIL released, while the
//! calling thread waits for it and, every [`POLL`], re-attaches to check for signals (Ctrl-C)
//! and to hand progress to the Python callable. Signals are polled from the calling (main)
//! thread because CPython runs signal handlers only there: `check_signals` on a worker thread
//! is a no-op. A pending exception (Ctrl-C, or one raised by the progress callable) sets the
//! [`Control`]'s cancel flag, the core stops at its next chunk, and the exception is raised in
//! place of the result. Every long call of the bindings goes through here; a call whose input
//! is small enough that the work is known to take far less than [`POLL`] may use [`short`]
//! instead, which spares it the worker thread (what a thread start and hand-back cost is
//! most of a small call's time).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use fastentropy_core::{Control, Result as CoreResult};
use pyo3::prelude::*;

use crate::error::CoreError;

/// How often the waiting thread checks signals and reports progress: often enough that
/// Ctrl-C feels immediate, rarely enough to cost nothing.
const POLL: Duration = Duration::from_millis(100);

/// Runs `work` with the GIL released on a scoped thread, with a [`Control`] of `threads`
/// workers whose cancel flag follows Ctrl-C and whose progress reaches `progress` (called
/// with `(done, total)`). Returns the work's result, or the Python exception that stopped it.
pub fn detached<T, F>(
    py: Python<'_>,
    threads: Option<usize>,
    progress: Option<&Py<PyAny>>,
    work: F,
) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Control<'_>) -> CoreResult<T> + Send,
{
    let cancel = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let total = AtomicU64::new(0);
    let record = |d: u64, t: u64| {
        done.store(d, Ordering::Relaxed);
        total.store(t, Ordering::Relaxed);
    };
    let ctl = Control {
        threads,
        cancel: Some(&cancel),
        progress: Some(&record),
    };
    let (result, raised) = py.detach(|| {
        let mut raised: Option<PyErr> = None;
        let mut reported: Option<u64> = None;
        // Checks signals, then reports progress if it moved; the first error cancels.
        let mut poll = |finished: bool| {
            if raised.is_some() {
                return;
            }
            Python::attach(|py| {
                let outcome = py.check_signals().and_then(|()| {
                    let (d, t) = (done.load(Ordering::Relaxed), total.load(Ordering::Relaxed));
                    let moved = match reported {
                        None => d > 0 || finished,
                        Some(r) => d > r,
                    };
                    match progress {
                        Some(cb) if moved => {
                            reported = Some(d);
                            cb.call1(py, (d, t)).map(drop)
                        }
                        _ => Ok(()),
                    }
                });
                if let Err(e) = outcome {
                    cancel.store(true, Ordering::Relaxed);
                    raised = Some(e);
                }
            });
        };
        let result = std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel::<()>();
            let worker = scope.spawn(move || {
                let r = work(&ctl);
                drop(tx);
                r
            });
            while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(POLL) {
                poll(false);
            }
            worker.join()
        });
        if let Ok(Ok(_)) = &result {
            poll(true);
        }
        (result, raised)
    });
    if let Some(e) = raised {
        return Err(e);
    }
    match result {
        Ok(r) => r.map_err(|e| CoreError(e).into()),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// As [`detached`], for work known to take far less than [`POLL`]: run on the calling thread
/// with the GIL released and no polling (a Ctrl-C is seen by Python as soon as it returns);
/// `progress` hears the last report once, at the end.
pub fn short<T, F>(
    py: Python<'_>,
    threads: Option<usize>,
    progress: Option<&Py<PyAny>>,
    work: F,
) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&Control<'_>) -> CoreResult<T> + Send,
{
    let last = std::sync::Mutex::new(None);
    let record = |d: u64, t: u64| {
        *last.lock().unwrap_or_else(|e| e.into_inner()) = Some((d, t));
    };
    let ctl = Control {
        threads,
        cancel: None,
        progress: Some(&record),
    };
    let result = py.detach(|| work(&ctl)).map_err(CoreError)?;
    let last = last.into_inner().unwrap_or_else(|e| e.into_inner());
    if let (Some(cb), Some(done)) = (progress, last) {
        cb.call1(py, done)?;
    }
    Ok(result)
}
