//! Per-core speed of the cross-entropy row kernels, on rows resident in L2 cache (so the
//! figure is the kernel's arithmetic, not memory) and on rows streamed from memory, one
//! thread. Prints values per CPU-second of the process (and per wall second) for each
//! dtype, instruction set and 16-bit path (the portable lanes only with `XENT_PORTABLE=1`). No assertion: a measuring tool, not a test.
//!
//! `cargo bench -p fastentropy-core --bench xent_kernel` (run it under `nice` on a shared
//! machine and read the ratios between lines, not the absolute figures).

use std::time::Instant;

use fastentropy_core::xent::{token_nll, Isa, Logits, Options, Path16};
use fastentropy_core::Control;

/// Deterministic pseudo-normal logits (sum of uniforms) × 3.
fn logits(n: usize) -> Vec<f32> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            let mut acc = 0f32;
            for _ in 0..4 {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                acc += (s >> 40) as f32 / (1u64 << 24) as f32;
            }
            (acc - 2.0) * 3.0 * 1.732
        })
        .collect()
}

fn f16_bits(x: f32) -> u16 {
    // Round to nearest even via f64 -> the float16 grid (normal range only: |x| < 60000).
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let a = x.abs();
    if a < 6.103_515_6e-5 {
        return sign | (a * 16_777_216.0).round() as u16;
    }
    let e = a.log2().floor() as i32;
    let m = (a / 2f32.powi(e) * 1024.0).round() as u32; // 1024..=2048
    let (e, m) = if m == 2048 { (e + 1, 1024) } else { (e, m) };
    sign | (((e + 15) as u16) << 10) | (m - 1024) as u16
}

/// CPU time of this process in seconds (the pool's one worker and the waiting caller): on a
/// shared machine, time while descheduled is not
/// counted (wall time is printed beside it).
#[cfg(target_os = "linux")]
fn cpu_time() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid pointer to a timespec; the clock id is a constant the kernel knows.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}
#[cfg(not(target_os = "linux"))]
fn cpu_time() -> f64 {
    0.0
}

fn run(name: &str, lg: Logits<'_>, vocab: usize, opts: Options, reps: usize) {
    let rows = lg.len() / vocab;
    let targets: Vec<i64> = (0..rows as i64)
        .map(|i| (i * 7919) % vocab as i64)
        .collect();
    let mut out = vec![0f64; rows];
    // One pool for all calls (a `Control` with `threads: Some(1)` would build one per call,
    // which costs more than a call on L2-resident rows).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let ctl = Control::with_threads(None);
    let mut best = (f64::MAX, f64::MAX);
    for _ in 0..40 {
        let (c0, t0) = (cpu_time(), Instant::now());
        pool.install(|| {
            for _ in 0..reps {
                token_nll(lg, vocab, &targets, &opts, &mut out, &ctl).unwrap();
            }
        });
        let (c, t) = (cpu_time() - c0, t0.elapsed().as_secs_f64());
        if c < best.0 {
            best = (c, t);
        }
    }
    let values = (lg.len() * reps) as f64;
    println!(
        "{name:<24} {:5.2} G values per CPU-second ({:5.2} per wall second)  checksum {:.6}",
        values / best.0 / 1e9,
        values / best.1 / 1e9,
        out.iter().sum::<f64>()
    );
}

fn main() {
    let vocab = 32_000;
    let memory = std::env::var_os("XENT_MEMORY").is_some();
    for (label, rows, reps) in [("L2 (128 KiB rows)", 4, 40), ("memory (256 MB)", 4000, 1)] {
        if rows > 4 && !memory {
            continue;
        }
        println!("-- {label}, V = {vocab}, 1 thread");
        let x = logits(rows * vocab);
        let h: Vec<u16> = x.iter().map(|&v| f16_bits(v)).collect();
        let b: Vec<u16> = x.iter().map(|&v| (v.to_bits() >> 16) as u16).collect();
        for isa in Isa::supported() {
            if isa == Isa::Portable && std::env::var_os("XENT_PORTABLE").is_none() {
                continue;
            }
            let o = |path16| Options {
                isa: Some(isa),
                path16,
                ..Options::default()
            };
            let f32_reps = reps / 2 + 1;
            run(
                &format!("f32 {}", isa.name()),
                Logits::F32(&x),
                vocab,
                o(None),
                f32_reps,
            );
            for p in [Path16::Table, Path16::Widen] {
                let n = format!("f16 {} {}", isa.name(), p.name());
                run(&n, Logits::F16(&h), vocab, o(Some(p)), reps);
                let n = format!("bf16 {} {}", isa.name(), p.name());
                run(&n, Logits::Bf16(&b), vocab, o(Some(p)), reps);
            }
        }
    }
}
