//! Shared end-to-end test harness: the simulator, and the real Terraform CLI.
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod ledger;
pub mod sim;
pub mod terraform;
