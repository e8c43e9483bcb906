//! How much of one core's streaming read bandwidth survives arithmetic on what it reads
//! (`XENT_OVERLAP=1`, x86_64 with AVX2 + FMA only).
//!
//! The float32 kernel does ~40 FMAs per 64 values: if the core streams from memory while it
//! computes, a row costs the larger of the two times; if it does not, their sum. This loop
//! reads 256 MB of `f32` and does `K` FMAs per 64 values (eight vectors, each a chain of
//! `K / 8` FMAs that starts from the loaded value, so the chains of one iteration overlap
//! the next), with and without the kernel's software prefetch (one `prefetcht0` per line,
//! 8 KiB ahead), and the same on 8 KiB in L1 for the arithmetic alone; then with integer
//! additions in place of the FMAs (light operations: if those stream as slowly, the cause is
//! not the FMAs' power licence). Each line prints the memory rate as a fraction of full
//! overlap (the smaller of the L1 rate and the `K = 0` memory rate), and beside it the rate
//! that no overlap would give, `1 / (1/a + 1/b)` of the two.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Values read per run: 256 MB of `f32`.
const VALUES: usize = 64 << 20;
/// Values of the in-cache run (8 KiB), read `VALUES / CACHED` times.
const CACHED: usize = 2048;

/// Sum of `K / 8`-long chains of FMAs (or, with `INT`, of 32-bit integer additions) started
/// from every value of `xs`, eight vectors at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn pass<const K: usize, const INT: bool>(xs: &[f32], prefetch: bool) -> f32 {
    let c = _mm256_set1_ps(0.999);
    let mut acc = [_mm256_setzero_ps(); 8];
    for g in xs.chunks_exact(64) {
        let p = g.as_ptr();
        if prefetch {
            for line in (0..256).step_by(64) {
                _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>().wrapping_add(8192 + line));
            }
        }
        for (j, a) in acc.iter_mut().enumerate() {
            let v = _mm256_loadu_ps(p.add(8 * j));
            let mut t = v;
            for _ in 0..K / 8 {
                t = if INT {
                    let (t, v) = (_mm256_castps_si256(t), _mm256_castps_si256(v));
                    _mm256_castsi256_ps(_mm256_add_epi32(t, v))
                } else {
                    _mm256_fmadd_ps(t, c, v)
                };
            }
            *a = _mm256_add_ps(*a, t);
        }
    }
    let (mut lanes, mut total) = ([0f32; 8], 0f32);
    for a in acc {
        _mm256_storeu_ps(lanes.as_mut_ptr(), a);
        total += lanes.iter().sum::<f32>();
    }
    total
}

/// GB/s of `pass::<K, INT>` over `xs`, `repeat` times per run, best of 3 runs (CPU time).
#[cfg(target_arch = "x86_64")]
fn rate<const K: usize, const INT: bool>(xs: &[f32], repeat: usize, prefetch: bool) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t0 = super::cpu_time();
        for _ in 0..repeat {
            // SAFETY: `report` checked AVX2 and FMA.
            std::hint::black_box(unsafe { pass::<K, INT>(std::hint::black_box(xs), prefetch) });
        }
        best = best.min(super::cpu_time() - t0);
    }
    (xs.len() * repeat * 4) as f64 / best / 1e9
}

#[cfg(target_arch = "x86_64")]
fn line<const K: usize, const INT: bool>(memory: &[f32], cached: &[f32], streaming: f64) {
    let l1 = rate::<K, INT>(cached, VALUES / CACHED, false);
    let (plain, ahead) = (
        rate::<K, INT>(memory, 1, false),
        rate::<K, INT>(memory, 1, true),
    );
    let op = if INT { "integer additions" } else { "FMAs" };
    let full = l1.min(streaming);
    let none = 1.0 / (1.0 / l1 + 1.0 / streaming);
    println!(
        "K = {K:2} {op} per 64 values: L1 {l1:6.1} GB/s; memory {plain:5.1}, prefetched \
         {ahead:5.1} GB/s = {:.2} of full overlap ({full:.1}; none would give {none:.1})",
        plain.max(ahead) / full
    );
}

pub fn report() {
    #[cfg(target_arch = "x86_64")]
    {
        if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
            println!("(overlap probe needs AVX2 + FMA)");
            return;
        }
        let memory: Vec<f32> = (0..VALUES).map(|i| (i & 1023) as f32 * 1e-3).collect();
        let cached = memory[..CACHED].to_vec();
        let streaming = rate::<0, false>(&memory, 1, false).max(rate::<0, false>(&memory, 1, true));
        println!("-- overlap of streaming and arithmetic, 1 thread");
        line::<0, false>(&memory, &cached, streaming);
        line::<16, false>(&memory, &cached, streaming);
        line::<32, false>(&memory, &cached, streaming);
        line::<64, false>(&memory, &cached, streaming);
        line::<32, true>(&memory, &cached, streaming);
        line::<64, true>(&memory, &cached, streaming);
    }
}
