//! The provider block's inline settings over the file's.

use super::*;

/// `inline` merged over `file`: hosts and sizes field by field (see [`HostSettings::merged_with`]).
pub fn merge(file: Settings, inline: Settings) -> Settings {
    let mut merged = file;
    for (region, zones) in inline.regions {
        let target = merged.regions.entry(region).or_default();
        for (az, host) in zones {
            let base = target.remove(&az).unwrap_or_default();
            target.insert(az, base.merged_with(host));
        }
    }
    for (name, size) in inline.sizes {
        let base = merged.sizes.remove(&name).unwrap_or_default();
        merged.sizes.insert(
            name,
            SizeSettings {
                memory: size.memory.or(base.memory),
                cores: size.cores.or(base.cores),
                cpulimit: size.cpulimit.or(base.cpulimit),
                swap: size.swap.or(base.swap),
                storage: size.storage.or(base.storage),
                origin: Origin::Inline,
            },
        );
    }
    merged
}
