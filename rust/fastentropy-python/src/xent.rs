//! Cross-entropy: numpy logits (f32, or 16-bit patterns) and targets in, per-token losses or
//! exact sums out, through [`detached`] (GIL released, Ctrl-C polled from the calling
//! thread; the core stops between slabs of ~64 MB), or [`short`] for inputs of at most
//! [`SHORT_BYTES`].

use fastentropy_core::xent::{self, Logits, Options, Sums, Total};
use fastentropy_core::Error;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::array::{with_slice, IntArray};
use crate::error::CoreError;
use crate::run::{detached, short};

/// Inputs up to this many bytes go through [`short`], not [`detached`]: at memory speed a
/// millisecond or less, and a small call's time went mostly to the worker thread (4 rows of
/// 8 logits: 843 µs a call through `detached` on a loaded two-core machine, where the work
/// alone takes ~15 µs).
const SHORT_BYTES: usize = 1 << 20;

/// Runs `work` through [`short`] when the input is `bytes` few, else through [`detached`].
fn run<T, F>(
    py: Python<'_>,
    bytes: usize,
    threads: Option<usize>,
    progress: Option<&Py<PyAny>>,
    work: F,
) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&fastentropy_core::Control<'_>) -> fastentropy_core::Result<T> + Send,
{
    if bytes <= SHORT_BYTES {
        short(py, threads, progress, work)
    } else {
        detached(py, threads, progress, work)
    }
}

/// Logits as numpy hands them over: `float32`, or the bits of a 16-bit format.
#[derive(FromPyObject)]
pub enum LogitsArray<'py> {
    F32(PyReadonlyArray2<'py, f32>),
    Bits16(PyReadonlyArray2<'py, u16>),
}

impl LogitsArray<'_> {
    /// Size of the logits in bytes.
    fn bytes(&self) -> usize {
        match self {
            LogitsArray::F32(a) => 4 * a.len(),
            LogitsArray::Bits16(a) => 2 * a.len(),
        }
    }

    /// The core's view, rows and vocabulary size; `dtype` says how to read 16-bit arrays.
    fn view(&self, dtype: &str) -> PyResult<(Logits<'_>, usize, usize)> {
        let shape = match self {
            LogitsArray::F32(a) => a.shape(),
            LogitsArray::Bits16(a) => a.shape(),
        };
        let logits = match (self, dtype) {
            (LogitsArray::F32(a), "float32") => Logits::F32(a.as_slice()?),
            (LogitsArray::Bits16(a), "float16") => Logits::F16(a.as_slice()?),
            (LogitsArray::Bits16(a), "bfloat16") => Logits::Bf16(a.as_slice()?),
            _ => {
                return Err(PyTypeError::new_err(format!(
                    "logits of this array type cannot be read as {dtype}"
                )))
            }
        };
        Ok((logits, shape[0], shape[1]))
    }
}

/// Per-token log-probabilities.
#[derive(FromPyObject)]
pub enum FloatArray<'py> {
    F32(PyReadonlyArray1<'py, f32>),
    F64(PyReadonlyArray1<'py, f64>),
}

fn options(ignore_index: Option<i64>, isa: Option<&str>) -> PyResult<Options> {
    with_path16(ignore_index, isa, None)
}

fn with_path16(
    ignore_index: Option<i64>,
    isa: Option<&str>,
    path16: Option<&str>,
) -> PyResult<Options> {
    let path16 = match path16 {
        None => None,
        Some(name) => Some(
            [xent::Path16::Table, xent::Path16::Widen]
                .into_iter()
                .find(|p| p.name() == name)
                .ok_or_else(|| {
                    CoreError(Error::Invalid(format!("unknown 16-bit path {name:?}")))
                })?,
        ),
    };
    let isa = match isa {
        None => None,
        Some(name) => Some(
            [xent::Isa::Avx512, xent::Isa::Avx2, xent::Isa::Portable]
                .into_iter()
                .find(|i| i.name() == name)
                .ok_or_else(|| {
                    CoreError(Error::Invalid(format!("unknown instruction set {name:?}")))
                })?,
        ),
    };
    Ok(Options {
        ignore_index,
        isa,
        path16,
    })
}

/// Per-token losses in nats (0 at ignored positions); `progress` hears rows done.
#[pyfunction]
#[pyo3(signature = (logits, targets, *, dtype, ignore_index=None, threads=None, isa=None, path16=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn xent_tokens<'py>(
    py: Python<'py>,
    logits: LogitsArray<'py>,
    targets: IntArray<'py>,
    dtype: &str,
    ignore_index: Option<i64>,
    threads: Option<usize>,
    isa: Option<&str>,
    path16: Option<&str>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let opts = with_path16(ignore_index, isa, path16)?;
    let (view, rows, vocab) = logits.view(dtype)?;
    let (bytes, progress) = (logits.bytes(), progress.as_ref());
    let out = with_slice!(targets, |t| run(py, bytes, threads, progress, |ctl| {
        let mut out = vec![0f64; rows];
        xent::token_nll(view, vocab, t, &opts, &mut out, ctl).map(|()| out)
    }))?;
    Ok(out.into_pyarray(py))
}

/// `(segment ids, token counts, loss sums in nats)`.
type PerSegment<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<f64>>,
);

/// The exact state: `(count, fixed sum, segment ids, counts, fixed sums high, low words)`.
type State<'py> = (
    u64,
    i128,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u64>>,
);

/// Token counts and exact loss sums (units of 2^-64 nats), overall and per segment.
#[pyclass(module = "fastentropy._core", name = "XentSums")]
#[derive(Default)]
pub struct XentSums(Sums);

#[pymethods]
impl XentSums {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Sums of the losses of logits rows against targets; `progress` hears rows done.
    #[staticmethod]
    #[pyo3(signature = (logits, targets, *, dtype, segments=None, ignore_index=None, threads=None, isa=None, path16=None, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn from_logits<'py>(
        py: Python<'py>,
        logits: LogitsArray<'py>,
        targets: IntArray<'py>,
        dtype: &str,
        segments: Option<PyReadonlyArray1<'py, i64>>,
        ignore_index: Option<i64>,
        threads: Option<usize>,
        isa: Option<&str>,
        path16: Option<&str>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let opts = with_path16(ignore_index, isa, path16)?;
        let (view, _, vocab) = logits.view(dtype)?;
        let seg = segments.as_ref().map(|s| s.as_slice()).transpose()?;
        let (bytes, progress) = (logits.bytes(), progress.as_ref());
        let sums = with_slice!(targets, |t| run(py, bytes, threads, progress, |ctl| {
            xent::nll_sums(view, vocab, t, seg, &opts, ctl)
        }))?;
        Ok(Self(sums))
    }

    /// Sums of `-logprobs`.
    #[staticmethod]
    #[pyo3(signature = (logprobs, *, segments=None))]
    fn from_logprobs<'py>(
        py: Python<'py>,
        logprobs: FloatArray<'py>,
        segments: Option<PyReadonlyArray1<'py, i64>>,
    ) -> PyResult<Self> {
        let seg = segments.as_ref().map(|s| s.as_slice()).transpose()?;
        let sums = match &logprobs {
            FloatArray::F32(a) => {
                let s = a.as_slice()?;
                run(py, 4 * s.len(), None, None, |ctl| {
                    xent::logprob_sums(s, seg, ctl)
                })
            }
            FloatArray::F64(a) => {
                let s = a.as_slice()?;
                run(py, 8 * s.len(), None, None, |ctl| {
                    xent::logprob_sums(s, seg, ctl)
                })
            }
        }?;
        Ok(Self(sums))
    }

    /// Rebuilds sums from `state()`.
    #[staticmethod]
    fn from_state(
        count: u64,
        fixed: i128,
        ids: PyReadonlyArray1<'_, i64>,
        counts: PyReadonlyArray1<'_, u64>,
        high: PyReadonlyArray1<'_, i64>,
        low: PyReadonlyArray1<'_, u64>,
    ) -> PyResult<Self> {
        let (ids, counts, high, low) = (
            ids.as_slice()?,
            counts.as_slice()?,
            high.as_slice()?,
            low.as_slice()?,
        );
        let n = ids.len();
        if counts.len() != n || high.len() != n || low.len() != n {
            return Err(
                CoreError(Error::Invalid("inconsistent cross-entropy state".into())).into(),
            );
        }
        let segments = (0..n).map(|i| {
            let fixed = (i128::from(high[i]) << 64) | i128::from(low[i]);
            (
                ids[i],
                Total {
                    count: counts[i],
                    fixed,
                },
            )
        });
        Ok(Self(Sums::from_parts(Total { count, fixed }, segments)))
    }

    /// Adds the tokens of `other`.
    fn merge(&mut self, other: &XentSums) -> PyResult<()> {
        self.0.merge(&other.0).map_err(|e| CoreError(e).into())
    }

    /// Tokens counted.
    #[getter]
    fn count(&self) -> u64 {
        self.0.total().count
    }

    /// Sum of their losses in nats.
    #[getter]
    fn sum(&self) -> f64 {
        self.0.total().nats()
    }

    /// `(ids, counts, sums in nats)` per segment, ids ascending.
    fn per_segment<'py>(&self, py: Python<'py>) -> PerSegment<'py> {
        let segs = self.0.segments();
        let ids: Vec<i64> = segs.keys().copied().collect();
        let counts: Vec<u64> = segs.values().map(|t| t.count).collect();
        let sums: Vec<f64> = segs.values().map(Total::nats).collect();
        (
            ids.into_pyarray(py),
            counts.into_pyarray(py),
            sums.into_pyarray(py),
        )
    }

    /// The exact state, for pickling.
    fn state<'py>(&self, py: Python<'py>) -> State<'py> {
        let segs = self.0.segments();
        let ids: Vec<i64> = segs.keys().copied().collect();
        let counts: Vec<u64> = segs.values().map(|t| t.count).collect();
        let high: Vec<i64> = segs.values().map(|t| (t.fixed >> 64) as i64).collect();
        let low: Vec<u64> = segs.values().map(|t| t.fixed as u64).collect();
        let total = self.0.total();
        (
            total.count,
            total.fixed,
            ids.into_pyarray(py),
            counts.into_pyarray(py),
            high.into_pyarray(py),
            low.into_pyarray(py),
        )
    }
}

/// `e^x` with the kernel's exponential, for tests (flushed to 0 below ln FLT_MIN).
#[pyfunction]
#[pyo3(signature = (x, *, isa=None))]
pub fn xent_exp<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f32>,
    isa: Option<&str>,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let isa = options(None, isa)?.isa.unwrap_or_else(xent::Isa::best);
    if !xent::Isa::supported().contains(&isa) {
        return Err(CoreError(Error::Invalid(format!("{} is not available", isa.name()))).into());
    }
    let xs = x.as_slice()?;
    let mut out = vec![0f32; xs.len()];
    py.detach(|| xent::exp_f32(isa, xs, &mut out));
    Ok(out.into_pyarray(py))
}

/// The path rows of `dtype` ("float16" or "bfloat16") take by default with `isa` (default:
/// the best) on this CPU: "table" or "widen".
#[pyfunction]
#[pyo3(signature = (dtype, isa=None))]
pub fn xent_path16(dtype: &str, isa: Option<&str>) -> PyResult<&'static str> {
    let isa = options(None, isa)?.isa.unwrap_or_else(xent::Isa::best);
    let format = match dtype {
        "float16" => xent::Format16::F16,
        "bfloat16" => xent::Format16::Bf16,
        _ => {
            let msg = format!("dtype {dtype:?}: expected \"float16\" or \"bfloat16\"");
            return Err(CoreError(Error::Invalid(msg)).into());
        }
    };
    Ok(xent::Path16::auto(isa, format).name())
}

/// Names of the instruction sets this CPU runs, fastest (the default) first.
#[pyfunction]
pub fn xent_isas() -> Vec<&'static str> {
    xent::Isa::supported()
        .into_iter()
        .map(xent::Isa::name)
        .collect()
}
