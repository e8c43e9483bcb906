//! What each vector instruction of the exponential costs beside the fused multiply-adds, on
//! this core (`XENT_PORTS=1`, x86_64 with AVX2 + FMA + F16C only).
//!
//! Method (after Agner Fog's port tests): a loop of 20 FMAs in 10 independent chains (enough
//! to keep two FMA pipes busy: 4 cycles of latency × 2 pipes needs 8 chains) takes 10 cycles
//! per iteration when FMAs issue twice per cycle. Adding 8 independent instructions of one
//! kind to each iteration adds nothing if they run on other pipes, and 4 cycles if each one
//! takes an FMA pipe for a cycle (8 for two cycles). So `(cycles - base) / 8 · 2` is the
//! number of FMA-pipe cycles ("slots") one instruction takes, and the loop of the 8 alone
//! gives its own throughput. Registers start at zero (`vzeroall`): no denormals, no NaN.

#[cfg(target_arch = "x86_64")]
use std::arch::asm;

/// Cycles per iteration of an `asm` loop body (with `fma;` first: after the 20 FMAs, in
/// ymm0..ymm9, two per chain), best of 5 runs of 200 000 iterations.
#[cfg(target_arch = "x86_64")]
macro_rules! cycles {
    ($hz:expr, fma; $($body:literal),*) => {
        cycles!($hz, ".rept 2",
            ".irp C, ymm0, ymm1, ymm2, ymm3, ymm4, ymm5, ymm6, ymm7, ymm8, ymm9",
            "vfmadd213ps \\C, ymm14, ymm15", ".endr", ".endr" $(, $body)*)
    };
    ($hz:expr, $($body:literal),+) => {{
        let iters = 200_000u64;
        let mut best = f64::MAX;
        for _ in 0..5 {
            let c0 = super::cpu_time();
            // SAFETY: register-only arithmetic on the vector registers, all declared
            // clobbered (every one is caller-saved in the C ABI); the counter is ours.
            unsafe {
                asm!("vzeroall", "2:", $($body,)+ "dec rcx", "jnz 2b",
                     inout("rcx") iters => _, clobber_abi("C"), options(nostack));
            }
            best = best.min(super::cpu_time() - c0);
        }
        best * $hz / iters as f64
    }};
}

/// One test: the instruction `$op` written with `D` for its destination (ymm10..ymm13 in
/// turn, eight per iteration), sources ymm14 / ymm15 / xmm15.
#[cfg(target_arch = "x86_64")]
macro_rules! port_test {
    ($hz:expr, $base:expr, $name:literal, $op:literal) => {{
        let with = cycles!(
            $hz,
            fma;
            ".rept 2",
            ".irp D, ymm10, ymm11, ymm12, ymm13",
            $op,
            ".endr",
            ".endr"
        );
        let alone = cycles!(
            $hz,
            ".rept 2",
            ".irp D, ymm10, ymm11, ymm12, ymm13",
            $op,
            ".endr",
            ".endr"
        );
        println!(
            "{:<34} {:5.2} FMA-pipe slots each ({:5.2} cycles with 20 FMAs); alone {:4.2} cycles each",
            $name,
            (with - $base) / 8.0 * 2.0,
            with,
            alone / 8.0
        );
    }};
}

/// Prints the table (nothing where the CPU lacks AVX2, FMA or F16C).
pub fn report(hz: f64) {
    #[cfg(target_arch = "x86_64")]
    {
        if !(is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("f16c"))
        {
            println!("ports: needs AVX2 + FMA + F16C");
            return;
        }
        let base = cycles!(hz, fma;);
        println!("-- ports: 20 FMAs in 10 chains take {base:5.2} cycles per iteration (10 = two per cycle)");
        port_test!(
            hz,
            base,
            "vfmadd213ps (more FMAs)",
            "vfmadd213ps \\D, ymm14, ymm15"
        );
        port_test!(hz, base, "vmulps", "vmulps \\D, ymm14, ymm15");
        port_test!(hz, base, "vaddps", "vaddps \\D, ymm14, ymm15");
        port_test!(hz, base, "vmaxps", "vmaxps \\D, ymm14, ymm15");
        port_test!(hz, base, "vcmpps (>=)", "vcmpps \\D, ymm14, ymm15, 13");
        port_test!(hz, base, "vandnps", "vandnps \\D, ymm14, ymm15");
        port_test!(hz, base, "vblendvps", "vblendvps \\D, ymm14, ymm15, ymm14");
        port_test!(hz, base, "vpaddd", "vpaddd \\D, ymm14, ymm15");
        port_test!(hz, base, "vpslld (immediate)", "vpslld \\D, ymm15, 20");
        port_test!(
            hz,
            base,
            "vpermps (8-entry table)",
            "vpermps \\D, ymm14, ymm15"
        );
        port_test!(
            hz,
            base,
            "vpermilps (4-entry, in lane)",
            "vpermilps \\D, ymm14, ymm15"
        );
        port_test!(hz, base, "vpshufb", "vpshufb \\D, ymm14, ymm15");
        port_test!(
            hz,
            base,
            "vpunpcklwd (bfloat16 widening)",
            "vpunpcklwd \\D, ymm14, ymm15"
        );
        port_test!(
            hz,
            base,
            "vcvtph2ps (float16 widening)",
            "vcvtph2ps \\D, xmm15"
        );
        port_test!(hz, base, "vcvtps2pd (to f64)", "vcvtps2pd \\D, xmm15");
        port_test!(hz, base, "vextractf128", "vextractf128 xmm10, ymm15, 1");
        port_test!(hz, base, "vroundps", "vroundps \\D, ymm15, 0");
        port_test!(hz, base, "vcvtps2dq", "vcvtps2dq \\D, ymm15");
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = hz;
}
