//! Per-core speed of the cross-entropy row kernels, on rows resident in L2 cache (so the
//! figure is the kernel's arithmetic, not memory) and on rows streamed from memory
//! (`XENT_MEMORY=1`), one thread; rows of 32000 values (`XENT_VOCAB` for others). Prints
//! values per CPU-second of the process (and per wall second) and cycles per 8 values (at
//! the clock measured first) for each dtype, instruction set and 16-bit path (the portable
//! lanes only with `XENT_PORTABLE=1`); with `XENT_PORTS=1`, first what each instruction of
//! the kernels costs (`ports.rs`); with `XENT_OVERLAP=1`, how much of the core's streaming
//! bandwidth survives arithmetic (`overlap.rs`). No assertion: a measuring tool, not a test.
//!
//! `cargo bench -p fastentropy-core --bench xent_kernel` (run it under `nice` on a shared
//! machine and read the ratios between lines, not the absolute figures).

mod overlap;
mod ports;

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

/// The core's clock in Hz, from a chain of dependent 64-bit multiplications (three cycles
/// each on every x86 core of the last decade; a chain of `add reg, 1` ran at "20 GHz" on an
/// Intel Xeon of 2026, whose renamer folds such additions), timed by CPU time; 0 where
/// unmeasured.
fn clock_hz() -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        let n = 2_000_000u64;
        let mut best = f64::MAX;
        for _ in 0..5 {
            let (mut x, c0) = (3u64, cpu_time());
            for _ in 0..n {
                // SAFETY: register-only arithmetic.
                unsafe {
                    std::arch::asm!(".rept 100", "imul {0}, {0}", ".endr", inout(reg) x);
                }
            }
            std::hint::black_box(x);
            best = best.min(cpu_time() - c0);
        }
        300.0 * n as f64 / best
    }
    #[cfg(not(target_arch = "x86_64"))]
    0.0
}

fn run(name: &str, lg: Logits<'_>, vocab: usize, opts: Options, reps: usize, hz: f64) {
    run_trials(
        name,
        lg,
        vocab,
        opts,
        reps,
        hz,
        if lg.len() > 1 << 20 { 5 } else { 200 },
    );
}

fn run_trials(
    name: &str,
    lg: Logits<'_>,
    vocab: usize,
    opts: Options,
    reps: usize,
    hz: f64,
    trials: usize,
) -> f64 {
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
    for _ in 0..trials {
        let (c0, t0) = (cpu_time(), Instant::now());
        pool.install(|| {
            for _ in 0..reps {
                token_nll(lg, vocab, &targets, &opts, &mut out, &ctl).unwrap();
            }
        });
        let (c, t) = (cpu_time() - c0, t0.elapsed().as_secs_f64());
        // A trial with a 16th of its wall time in CPU time is a glitch of the guest's CPU
        // clock (seen once: "157 G values per CPU-second"), not a fast run.
        if c < best.0 && 16.0 * c > t {
            best = (c, t);
        }
    }
    let values = (lg.len() * reps) as f64;
    println!(
        "{name:<24} {:5.2} G values per CPU-second ({:5.2} per wall second), {:5.2} cycles per 8 values  checksum {:.6}",
        values / best.0 / 1e9,
        values / best.1 / 1e9,
        8.0 * hz * best.0 / values,
        out.iter().sum::<f64>()
    );
    best.0 / reps as f64
}

fn main() {
    // `XENT_VOCAB=128256`: another row length (the same values; L2 rows then exceed L2).
    let vocab = std::env::var("XENT_VOCAB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32_000);
    let memory = std::env::var_os("XENT_MEMORY").is_some();
    let hz = clock_hz();
    println!("clock {:.3} GHz (dependent multiplications)", hz / 1e9);
    // The fixed cost of a call (checks, the pool, the merge), to set beside the L2 figures:
    // two rows of 64 values.
    let tiny = logits(128);
    let t = run_trials(
        "call, 2 rows of 64",
        Logits::F32(&tiny),
        64,
        Options::default(),
        200,
        hz,
        200,
    );
    println!("   fixed cost of a call: {:.2} µs", t * 1e6);
    if std::env::var_os("XENT_PORTS").is_some() {
        ports::report(hz);
    }
    if std::env::var_os("XENT_OVERLAP").is_some() {
        overlap::report();
    }
    // L2: two rows, 256 KiB of `f32` (128 KiB of 16-bit values) in a 512 KiB L2.
    let big = 128_000_000 / vocab;
    for (label, rows, reps) in [("L2 (two rows)", 2, 16), ("memory (256 MB)", big, 1)] {
        if rows > 2 && !memory {
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
                hz,
            );
            for p in [Path16::Table, Path16::Widen] {
                let n = format!("f16 {} {}", isa.name(), p.name());
                run(&n, Logits::F16(&h), vocab, o(Some(p)), reps, hz);
                let n = format!("bf16 {} {}", isa.name(), p.name());
                run(&n, Logits::Bf16(&b), vocab, o(Some(p)), reps, hz);
            }
        }
    }
}
