//! How rows of 16-bit logits are summed: by the exact per-pattern table of `table.rs`, or
//! widened to `f32` (exactly: every float16 and bfloat16 is an `f32`) and given to the vector
//! kernel of `row.rs`.
//!
//! The choice is fixed per CPU and instruction set, never timed: the two paths differ in the
//! last bits of per-token values (the table's error is ~1e-16, the kernel's < 6e-7, both
//! within the 1e-6 contract), and a choice by calibration would let timing noise change
//! results from one run to the next. Measured (`benches/xent_speed.py`, `docs/xent_speed.md`):
//! on Zen 1, whose 256-bit operations issue as two 128-bit halves, the table is faster for
//! both formats (~1.3 cycles per float16 value against ~2.2 for the kernel); on Zen 3, with
//! full-width pipes, the widened kernel beats the float16 table by ~35% (the table is bound
//! by L1 misses: a float16 row spreads over ~11,000 patterns of its 512 KiB), while the
//! bfloat16 table (~2,200 patterns per row, mostly L1 hits) still beats the kernel by ~20%
//! (per core, rows in L2, `benches/xent_kernel.rs`: float16 widened 3.35 G values per
//! second against 2.5 by table; bfloat16 by table 4.3 against 3.55 widened).
//! Rule: float16 is widened on AVX-512 and on AVX2 unless the CPU splits 256-bit operations
//! (AMD before Zen 2, Hygon); bfloat16 takes the table everywhere; the portable lanes, whose
//! widening is scalar, take the table. On AVX-512 (an Intel Xeon of 2026, the first such
//! machine here) the widened float16 kernel ran 1.15-1.37 times the table on two threads, and
//! bfloat16's two paths were level (0.98-1.01), so the rule holds there as measured.

use super::dispatch::Isa;

/// The summing path for 16-bit rows (`f32` rows always take the vector kernel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path16 {
    /// `e^x` looked up per bit pattern, summed in `f64` (rows beyond the table's range fall
    /// back to the kernel).
    Table,
    /// Widened to `f32` with the instruction set's conversion, then the vector kernel.
    Widen,
}

/// A 16-bit logits format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format16 {
    /// IEEE binary16.
    F16,
    /// bfloat16.
    Bf16,
}

impl Path16 {
    /// The path for `format` on `isa` on this CPU: deterministic per machine (see the module
    /// docs).
    pub fn auto(isa: Isa, format: Format16) -> Path16 {
        match (format, isa) {
            (Format16::Bf16, _) => Path16::Table,
            (Format16::F16, Isa::Avx512) => Path16::Widen,
            (Format16::F16, Isa::Avx2) if !splits_256_bit() => Path16::Widen,
            _ => Path16::Table,
        }
    }

    /// Lower-case name, as reported to users.
    pub fn name(self) -> &'static str {
        match self {
            Path16::Table => "table",
            Path16::Widen => "widen",
        }
    }
}

/// True on CPUs known to execute 256-bit vector operations as two 128-bit halves: AMD
/// families before 0x17, family 0x17 below model 0x30 (Zen 1, Zen+; Zen 2 starts at 0x30),
/// and Hygon (a Zen 1 design). Intel's AVX2 CPUs all have full-width units.
pub fn splits_256_bit() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::__cpuid;
        // cpuid exists on every x86_64 CPU (hence a safe intrinsic).
        let (v, f) = (__cpuid(0), __cpuid(1));
        let mut vendor = [0u8; 12];
        vendor[..4].copy_from_slice(&v.ebx.to_le_bytes());
        vendor[4..8].copy_from_slice(&v.edx.to_le_bytes());
        vendor[8..].copy_from_slice(&v.ecx.to_le_bytes());
        let (family, model) = family_model(f.eax);
        match &vendor {
            b"AuthenticAMD" => family < 0x17 || (family == 0x17 && model < 0x30),
            b"HygonGenuine" => true,
            _ => false,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Display family and model from cpuid leaf 1's `eax` (the extended fields count when the
/// base family is 0xF, and for the model also when it is 6).
pub(crate) fn family_model(eax: u32) -> (u32, u32) {
    let base_family = (eax >> 8) & 0xf;
    let base_model = (eax >> 4) & 0xf;
    let family = if base_family == 0xf {
        base_family + ((eax >> 20) & 0xff)
    } else {
        base_family
    };
    let model = if base_family == 0xf || base_family == 6 {
        base_model | (((eax >> 16) & 0xf) << 4)
    } else {
        base_model
    };
    (family, model)
}
