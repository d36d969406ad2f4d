//! The collector's integration tests on real sample traces and fuzz findings, as one test binary.

mod dockerbuild;
mod fuzz_regressions;
mod outcomes;
mod robustness;
mod store_batches;
mod store_reads;
mod traces;
