//! `lws-sim`: the Proxmox VE host simulator (see `src/sim/mod.rs`).
//!
//! The simulator's code is compiled into this binary only, through the `#[path]` module below;
//! the library and the provider binary never declare `mod sim`, so they cannot link it.

#[path = "../sim/mod.rs"]
mod sim;

fn main() {
    std::process::exit(sim::main());
}
