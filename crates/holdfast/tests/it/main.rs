//! End-to-end tests of the `holdfast` binary: one test crate, one link.

mod bad_input;
mod cli;
mod common;
mod daemon;
mod layers;
mod rpm;
mod secrets;
mod sources;
