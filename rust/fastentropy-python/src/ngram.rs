//! N-gram counting: numpy token arrays in, profiles and counts out.
//!
//! The count runs on a scoped worker thread with the GIL released, while the calling thread
//! waits for it and, every ~100 ms, re-attaches to check for signals (Ctrl-C) and to report
//! progress to the Python callable. Signals are polled from the calling (main) thread because
//! CPython runs signal handlers only there: `check_signals` on a worker thread is a no-op. A
//! pending exception sets the core's cancel flag, the count stops at its next chunk of tokens
//! or bucket of keys, and the exception is re-raised.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use fastentropy_core::{CountOptions, Result as CoreResult};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::array::{into_arrays, with_slice, IntArray, Pairs};
use crate::error::CoreError;

/// How often the waiting thread checks signals and reports progress.
const POLL: Duration = Duration::from_millis(100);

/// The caller's options, as extracted from Python.
struct Opts<'a> {
    separator: Option<u64>,
    mask: Option<&'a [bool]>,
    memory_limit: Option<usize>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
}

/// Runs `work` with the GIL released on a scoped thread, polling signals and reporting
/// progress from the calling thread. A Python exception raised meanwhile (Ctrl-C, or one
/// from the progress callable) cancels the count and is returned in place of its result.
fn interruptible<T, F>(py: Python<'_>, opts: &Opts<'_>, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&CountOptions<'_>) -> CoreResult<T> + Send,
{
    let cancel = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let total = AtomicU64::new(0);
    let record = |d: u64, t: u64| {
        done.store(d, Ordering::Relaxed);
        total.store(t, Ordering::Relaxed);
    };
    let core_opts = CountOptions {
        separator: opts.separator,
        mask: opts.mask,
        memory_limit: opts.memory_limit,
        threads: opts.threads,
        progress: Some(&record),
        cancel: Some(&cancel),
    };
    let callback = opts.progress.as_ref();
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
                    match callback {
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
                let r = work(&core_opts);
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

/// `(ngrams[rows, order], counts[rows])`.
type MostCommon<'py> = (Bound<'py, PyArray2<u64>>, Bound<'py, PyArray1<u64>>);

/// The n-gram counts of one order (the result of `count_ngrams`).
#[pyclass(frozen, module = "fastentropy._core", name = "NgramCounts")]
pub struct NgramCounts(fastentropy_core::NgramCounts);

#[pymethods]
impl NgramCounts {
    /// The n-gram order.
    #[getter]
    fn order(&self) -> usize {
        self.0.order()
    }

    /// Number of n-gram occurrences counted.
    #[getter]
    fn n(&self) -> u64 {
        self.0.n()
    }

    /// Number of distinct n-grams.
    #[getter]
    fn distinct(&self) -> u64 {
        self.0.distinct()
    }

    /// The count profile as `(ks, mks)`.
    fn profile<'py>(&self, py: Python<'py>) -> Pairs<'py> {
        into_arrays(py, &self.0.profile())
    }

    /// The `k` most common n-grams as `(ngrams[k, order], counts[k])`, original ids.
    fn most_common<'py>(&self, py: Python<'py>, k: usize) -> PyResult<MostCommon<'py>> {
        let (ngrams, counts) = self.0.most_common(k).map_err(CoreError)?;
        let rows = counts.len();
        let ngrams = ngrams.into_pyarray(py).reshape([rows, self.0.order()])?;
        Ok((ngrams, counts.into_pyarray(py)))
    }

    fn __repr__(&self) -> String {
        format!(
            "NgramCounts(order={}, n={}, distinct={})",
            self.0.order(),
            self.0.n(),
            self.0.distinct()
        )
    }
}

/// Counts the n-grams of one order.
#[pyfunction]
#[pyo3(signature = (tokens, order, *, separator=None, mask=None, memory_limit=None, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn count_ngrams(
    py: Python<'_>,
    tokens: IntArray<'_>,
    order: usize,
    separator: Option<u64>,
    mask: Option<PyReadonlyArray1<'_, bool>>,
    memory_limit: Option<usize>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<NgramCounts> {
    let opts = Opts {
        separator,
        mask: mask.as_ref().map(|m| m.as_slice()).transpose()?,
        memory_limit,
        threads,
        progress,
    };
    let counts = with_slice!(tokens, |s| interruptible(py, &opts, |o| {
        fastentropy_core::count_ngrams(s, order, o)
    }))?;
    Ok(NgramCounts(counts))
}

/// Count profiles of several orders from one pass: a list of `(order, (ks, mks))`.
#[pyfunction]
#[pyo3(signature = (tokens, orders, *, separator=None, mask=None, memory_limit=None, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn ngram_profiles<'py>(
    py: Python<'py>,
    tokens: IntArray<'py>,
    orders: Vec<usize>,
    separator: Option<u64>,
    mask: Option<PyReadonlyArray1<'py, bool>>,
    memory_limit: Option<usize>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Vec<(usize, Pairs<'py>)>> {
    let opts = Opts {
        separator,
        mask: mask.as_ref().map(|m| m.as_slice()).transpose()?,
        memory_limit,
        threads,
        progress,
    };
    let profiles = with_slice!(tokens, |s| interruptible(py, &opts, |o| {
        fastentropy_core::ngram_profiles(s, &orders, o)
    }))?;
    Ok(profiles
        .iter()
        .map(|(n, p)| (*n, into_arrays(py, p)))
        .collect())
}
