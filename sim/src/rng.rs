//! Cheap randomness for MAC addresses, PIDs, UPIDs and Docker ids. Nothing here protects a
//! secret, so a time-and-pid seeded xorshift is enough and keeps the simulator dependency-free.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
    (nanos ^ (u64::from(std::process::id()) << 32)) | 1
}

pub fn next() -> u64 {
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

/// `len` lowercase hex digits.
pub fn hex(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        out.push_str(&format!("{:016x}", next()));
    }
    out.truncate(len);
    out
}
