//! End-to-end tests of the `holdfast` binary: one test crate, one link.

mod admission;
mod analyze;
mod authz;
mod bad_input;
mod cli;
mod cluster;
mod common;
mod container;
mod daemon;
mod db_update;
mod deploy;
mod engine;
mod engines;
mod escape;
mod hostchecks;
mod layers;
mod owned;
mod plugins;
mod registry;
mod registry_token;
mod remote_cache;
mod report;
mod rpm;
mod secrets;
mod server;
mod sources;
