//! VMID allocation inside one provider process. Proxmox's `/cluster/nextid` reserves nothing,
//! so parallel creates would collide; ids chosen here are reserved until their create is done,
//! and a collision with someone else's container is retried by the caller with a fresh id.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Ids reserved in one cluster.
#[derive(Default)]
pub struct Allocator {
    reserved: Mutex<BTreeSet<u32>>,
}

/// An id held for one create; released when dropped.
pub struct Reservation {
    allocator: Arc<Allocator>,
    pub vmid: u32,
    kept: bool,
}

impl Allocator {
    /// The lowest id from `start` that is neither `used` nor reserved, now reserved.
    pub fn reserve(self: &Arc<Self>, used: &BTreeSet<u32>, start: u32) -> Option<Reservation> {
        let mut reserved = self.reserved.lock().unwrap_or_else(|p| p.into_inner());
        let vmid = (start.max(100)..1_000_000_000).find(|id| !used.contains(id) && !reserved.contains(id))?;
        reserved.insert(vmid);
        Some(Reservation { allocator: self.clone(), vmid, kept: false })
    }
}

impl Reservation {
    /// The id is in use now: keep it out of every later allocation of this process.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        let mut reserved = self.allocator.reserved.lock().unwrap_or_else(|p| p.into_inner());
        reserved.remove(&self.vmid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_ids_are_not_handed_out_twice() {
        let allocator = Arc::new(Allocator::default());
        let used: BTreeSet<u32> = [100, 101, 103].into();
        let a = allocator.reserve(&used, 100).expect("id");
        let b = allocator.reserve(&used, 100).expect("id");
        assert_eq!((a.vmid, b.vmid), (102, 104));
        drop(a);
        assert_eq!(allocator.reserve(&used, 100).expect("id").vmid, 102, "released ids come back");
        assert_eq!(allocator.reserve(&used, 500).expect("id").vmid, 500, "start_vmid is honoured");
        allocator.reserve(&used, 100).expect("id").keep();
        assert_eq!(allocator.reserve(&used, 100).expect("id").vmid, 105, "kept ids stay taken");
    }
}
