//! Runtime choice of instruction set: one build runs everywhere, fast where it can.

use super::exp::exp_slice;
use super::lanes::{Lanes, Portable};
use super::row::{nll, Elem, Fault};

/// The instruction sets the kernels are compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// AVX-512F, sixteen lanes.
    Avx512,
    /// AVX2 with FMA and F16C, eight lanes.
    Avx2,
    /// Plain Rust arrays of eight lanes (whatever the compiler makes of them).
    Portable,
}

impl Isa {
    /// The fastest instruction set this CPU has.
    pub fn best() -> Isa {
        Self::supported()[0]
    }

    /// Every instruction set this CPU can run, fastest first.
    pub fn supported() -> Vec<Isa> {
        let mut out = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            // BW too: the 16-bit kernels unpack and compare 16-bit lanes (AVX-512BW), which
            // every AVX-512 CPU but the Xeon Phi has.
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw") {
                out.push(Isa::Avx512);
            }
            if is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("fma")
                && is_x86_feature_detected!("f16c")
            {
                out.push(Isa::Avx2);
            }
        }
        out.push(Isa::Portable);
        out
    }

    /// Lower-case name, as reported to users.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Portable => "portable",
        }
    }
}

/// Losses of consecutive rows of `vocab` logits, `cols[i]` the target column of row `i`
/// (`u32::MAX`: ignored, loss 0); on failure, the row within `rows` and the fault. With
/// `table`, 16-bit rows are first offered to the look-up table (see `path.rs`).
#[inline(always)]
unsafe fn rows_on<L: Lanes, E: Elem>(
    rows: &[E::Raw],
    vocab: usize,
    cols: &[u32],
    table: bool,
    out: &mut [f64],
) -> Result<(), (usize, Fault)> {
    for (i, (&c, o)) in cols.iter().zip(out.iter_mut()).enumerate() {
        *o = if c == u32::MAX {
            0.0
        } else {
            nll::<L, E>(&rows[i * vocab..(i + 1) * vocab], c as usize, table).map_err(|f| (i, f))?
        };
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn rows_avx512<E: Elem>(
    rows: &[E::Raw],
    vocab: usize,
    cols: &[u32],
    table: bool,
    out: &mut [f64],
) -> Result<(), (usize, Fault)> {
    rows_on::<super::avx512::Avx512, E>(rows, vocab, cols, table, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn rows_avx2<E: Elem>(
    rows: &[E::Raw],
    vocab: usize,
    cols: &[u32],
    table: bool,
    out: &mut [f64],
) -> Result<(), (usize, Fault)> {
    rows_on::<super::avx2::Avx2, E>(rows, vocab, cols, table, out)
}

/// [`rows_on`] with the lanes of `isa`, which must be in [`Isa::supported`].
pub(crate) fn rows_nll<E: Elem>(
    isa: Isa,
    rows: &[E::Raw],
    vocab: usize,
    cols: &[u32],
    table: bool,
    out: &mut [f64],
) -> Result<(), (usize, Fault)> {
    assert!(rows.len() == vocab * cols.len() && out.len() == cols.len());
    // SAFETY: `isa` was detected on this CPU (callers take it from `Isa::supported`), and
    // every row slice is in bounds (checked above).
    unsafe {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => rows_avx512::<E>(rows, vocab, cols, table, out),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => rows_avx2::<E>(rows, vocab, cols, table, out),
            _ => rows_on::<Portable, E>(rows, vocab, cols, table, out),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn exp_avx512(xs: &[f32], out: &mut [f32]) {
    exp_slice::<super::avx512::Avx512>(xs, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn exp_avx2(xs: &[f32], out: &mut [f32]) {
    exp_slice::<super::avx2::Avx2>(xs, out)
}

/// `out[i] = e^xs[i]` with the kernel's exponential on `isa` (flushed to 0 below
/// ln FLT_MIN). Panics if `isa` is not supported by this CPU or the lengths differ.
pub fn exp_f32(isa: Isa, xs: &[f32], out: &mut [f32]) {
    assert!(
        Isa::supported().contains(&isa),
        "{isa:?} is not available on this CPU"
    );
    assert_eq!(
        xs.len(),
        out.len(),
        "exp_f32: input and output lengths differ"
    );
    // SAFETY: the instruction set was checked just above.
    unsafe {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => exp_avx512(xs, out),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => exp_avx2(xs, out),
            _ => exp_slice::<Portable>(xs, out),
        }
    }
}

/// [`super::lanes::Lanes::extremes16`] with the lanes of `isa` (for tests).
#[cfg(test)]
pub(crate) fn extremes16_on(isa: Isa, xs: &[u16]) -> [u16; 3] {
    assert!(Isa::supported().contains(&isa));
    // SAFETY: the instruction set was checked just above.
    unsafe {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => extremes16_avx512(xs),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => extremes16_avx2(xs),
            _ => <Portable as Lanes>::extremes16(xs),
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn extremes16_avx512(xs: &[u16]) -> [u16; 3] {
    <super::avx512::Avx512 as Lanes>::extremes16(xs)
}

#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx2")]
unsafe fn extremes16_avx2(xs: &[u16]) -> [u16; 3] {
    super::avx2::extremes16_avx2(xs)
}
