//! A pseudo-random generator for tests: reproducible inputs without a dependency.

/// A 64-bit linear congruential generator with Knuth's MMIX constants; its high bits are
/// the random ones.
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    /// Steps the state and returns it (read its high bits).
    pub(crate) fn step(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0
    }

    /// A number below `m` from bits 33 and up of the next state.
    pub(crate) fn below(&mut self, m: u64) -> u64 {
        (self.step() >> 33) % m
    }
}
