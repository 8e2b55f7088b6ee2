//! The simulator over both real SSH paths (our embedded server and OpenSSH's sshd), driven with
//! the system `ssh` client only — no provider code involved.

mod common;

use std::thread;

use common::sim::{text, Server, Sim};

const TEMPLATE: &str = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";

fn create(sim: &Sim, host: &str, vmid: u32, extra: &str) {
    sim.ok(
        host,
        &format!("pct create {vmid} {TEMPLATE} --hostname ct{vmid} --rootfs local-lvm:8 --net0 name=eth0,bridge=vmbr0,ip=dhcp {extra}"),
    );
}

fn lifecycle(server: Server) {
    let sim = Sim::start(server, &["eu-south-1/az1"], &[]);
    let h = "eu-south-1/az1";
    assert_eq!(sim.ok(h, "pct list"), "", "no containers: pct list prints nothing at all");
    assert_eq!(sim.ok(h, "pvesh get /cluster/nextid"), "100\n");

    let out = sim.ok(
        h,
        &format!(
            "pct create 100 {TEMPLATE} --hostname web --memory 1024 --cores 2 --rootfs local-lvm:8 \
             --net0 name=eth0,bridge=vmbr0,ip=10.0.0.5/24,gw=10.0.0.1 --unprivileged 1 --tags 'Web;prod' \
             --description 'web: frontend'"
        ),
    );
    assert!(out.contains("Logical volume \"vm-100-disk-0\" created."), "{out}");
    assert!(out.contains(&format!("extracting archive '/var/lib/vz/template/cache/{}'", &TEMPLATE[13..])), "{out}");

    let list = sim.ok(h, "pct list");
    assert_eq!(
        list,
        format!(
            "{:<10} {:<10} {:<12} {:<20}\n{:<10} {:<10} {:<12} {:<20}\n",
            "VMID", "Status", "Lock", "Name", "100", "stopped", "", "web"
        )
    );

    let config = sim.ok(h, "pct config 100");
    for line in [
        "arch: amd64",
        "cores: 2",
        "description: web%3A frontend%0A",
        "hostname: web",
        "memory: 1024",
        "ostype: debian",
        "rootfs: local-lvm:vm-100-disk-0,size=8G",
        "swap: 512",
        "tags: prod;web",
        "unprivileged: 1",
    ] {
        assert!(config.lines().any(|l| l == line), "missing `{line}` in\n{config}");
    }
    let net = config.lines().find(|l| l.starts_with("net0: ")).expect("net0");
    assert!(net.starts_with("net0: name=eth0,bridge=vmbr0,gw=10.0.0.1,hwaddr=BC:24:11:"), "{net}");
    assert!(net.ends_with(",ip=10.0.0.5/24,type=veth"), "{net}");
    let mut keys: Vec<&str> = config.lines().map(|l| l.split(':').next().unwrap_or_default()).collect();
    let sorted = {
        let mut k = keys.clone();
        k.sort();
        k
    };
    assert_eq!(keys, sorted, "pct config sorts keys");
    keys.clear();

    assert_eq!(sim.ok(h, "pct status 100"), "status: stopped\n");
    sim.ok(h, "pct start 100");
    assert_eq!(sim.ok(h, "pct status 100"), "status: running\n");
    let verbose = sim.ok(h, "pct status 100 --verbose");
    assert!(verbose.contains("maxmem: 1073741824\n") && verbose.contains("type: lxc\n") && !verbose.contains("cpu:"));

    // Errors, with Proxmox's texts and exit codes.
    let out = sim.ssh(h, "pct start 100");
    assert_eq!((out.status.code(), text(&out).1), (Some(255), "CT 100 already running\n".to_owned()));
    let out = sim.ssh(h, "pct status 999");
    assert_eq!(
        (out.status.code(), text(&out).1),
        (Some(2), "Configuration file 'nodes/az1/lxc/999.conf' does not exist\n".to_owned())
    );
    let out = sim.ssh(h, &format!("pct create 100 {TEMPLATE} --rootfs local-lvm:8"));
    assert_eq!(text(&out).1, "CT 100 already exists on node 'az1'\n");
    let out = sim.ssh(h, "pct set 100 --memory 8");
    assert_eq!(
        text(&out).1,
        "400 Parameter verification failed.\nmemory: value must have a minimum value of 16\npct set <vmid> [OPTIONS]\n"
    );
    let out = sim.ssh(h, "pct create 101 local:vztmpl/missing.tar.zst --rootfs local-lvm:8");
    assert_eq!(text(&out).1, "unable to create CT 101 - volume 'local:vztmpl/missing.tar.zst' does not exist\n");
    assert!(sim.ok(h, "pct list").lines().all(|l| !l.starts_with("101")), "failed create leaves nothing");
    let out = sim.ssh(h, &format!("pct create 102 {TEMPLATE} --rootfs nosuch:8"));
    assert_eq!(text(&out).1, "storage 'nosuch' does not exist\n");
    let out = sim.ssh(h, "pct destroy 100");
    assert_eq!(text(&out).1, "unable to destroy CT 100 - container is running\n");

    // Changes while running: memory applies at once, nameserver waits for the next start.
    sim.ok(h, "pct set 100 --memory 2048 --nameserver 1.1.1.1");
    let current = sim.ok(h, "pct config 100 --current");
    assert!(current.contains("memory: 2048\n") && !current.contains("nameserver"));
    assert!(sim.ok(h, "pct config 100").contains("nameserver: 1.1.1.1\n"), "pending values show without --current");
    sim.ok(h, "pct resize 100 rootfs +2G");
    assert!(sim.ok(h, "pct config 100").contains("rootfs: local-lvm:vm-100-disk-0,size=10G\n"));
    let out = sim.ssh(h, "pct resize 100 rootfs 4G");
    assert_eq!(text(&out).1, "unable to shrink disk size\n");

    sim.ok(h, "pct stop 100");
    let out = sim.ok(h, "pct destroy 100 --purge");
    assert!(out.contains("purging CT 100 from related configurations.."), "{out}");
    assert_eq!(sim.ok(h, "pct list"), "");
    assert!(sim.ok(h, "ls /etc/pve/nodes/az1/lxc/").is_empty(), "config removed from the mapped /etc/pve");

    let tools: Vec<String> = sim
        .log()
        .iter()
        .filter(|e| e["kind"] == "tool")
        .filter_map(|e| e["argv"][0].as_str().map(str::to_owned))
        .collect();
    assert!(tools.iter().filter(|t| *t == "pct").count() >= 10, "every pct run is logged: {tools:?}");
}

#[test]
fn container_lifecycle_over_embedded_ssh() {
    lifecycle(Server::Embedded);
}

#[test]
fn container_lifecycle_over_openssh() {
    lifecycle(Server::OpenSsh);
}

fn nextid_race(server: Server) {
    let sim = Sim::start(server, &["eu-south-1/az1", "eu-south-1/az2"], &[]);
    // nextid reserves nothing: both nodes are told the same id.
    let id1 = sim.ok("eu-south-1/az1", "pvesh get /cluster/nextid --output-format json");
    let id2 = sim.ok("eu-south-1/az2", "pvesh get /cluster/nextid --output-format json");
    assert_eq!((id1.as_str(), id2.as_str()), ("\"100\"\n", "\"100\"\n"));
    let outputs: Vec<std::process::Output> = thread::scope(|scope| {
        let handles: Vec<_> = ["eu-south-1/az1", "eu-south-1/az2", "eu-south-1/az1"]
            .into_iter()
            .map(|host| {
                let sim = &sim;
                scope.spawn(move || sim.ssh(host, &format!("pct create 100 {TEMPLATE} --rootfs local-lvm:8")))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let winners = outputs.iter().filter(|o| o.status.success()).count();
    assert_eq!(winners, 1, "exactly one create wins the id");
    for loser in outputs.iter().filter(|o| !o.status.success()) {
        let stderr = text(loser).1;
        // Either `check_vmid_unused` saw the winner's config, or both passed it at once and
        // pmxcfs refused the second config write (EEXIST): both are Proxmox's answers.
        let already = stderr.contains("CT 100 already exists on node 'az");
        let eexist = stderr.contains("unable to create CT 100 - close (rename) atomic file '/etc/pve/nodes/az")
            && stderr.contains("/lxc/100.conf' failed: File exists");
        assert!(already || eexist, "the loser fails with Proxmox's error, got: {stderr}");
        assert_eq!(loser.status.code(), Some(255));
    }
    assert_eq!(sim.ok("eu-south-1/az2", "pvesh get /cluster/nextid"), "101\n");
}

#[test]
fn parallel_creates_race_for_nextid_over_embedded_ssh() {
    nextid_race(Server::Embedded);
}

#[test]
fn parallel_creates_race_for_nextid_over_openssh() {
    nextid_race(Server::OpenSsh);
}

fn lock_timeout(server: Server) {
    let sim = Sim::start(server, &["eu-south-1/az1"], &[]);
    let h = "eu-south-1/az1";
    create(&sim, h, 100, "");
    // Hold Proxmox's own lock file with flock(1), as another task would.
    let holder = thread::scope(|scope| {
        // The holder marks when it holds the lock: on a loaded machine its SSH session can take
        // a while to start, and the contender must not start before it.
        let marker = sim.dir.path.join("lock-held");
        let command = format!("flock /run/lock/lxc/pve-config-100.lock sh -c 'touch {}; sleep 12'", marker.display());
        let sim = &sim;
        let holder = scope.spawn(move || sim.ssh(h, &command));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !marker.exists() {
            assert!(std::time::Instant::now() < deadline, "the lock holder never got the lock");
            thread::sleep(std::time::Duration::from_millis(20));
        }
        let started = std::time::Instant::now();
        let out = sim.ssh(h, "pct set 100 --memory 1024");
        let waited = started.elapsed();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(255));
        assert_eq!(
            stderr,
            "trying to acquire lock...\ncan't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout\n"
        );
        assert!(waited.as_secs_f64() >= 9.5, "Proxmox waits 10 s for the lock, waited {waited:?}");
        holder.join().expect("holder thread")
    });
    assert!(holder.status.success());
    sim.ok(h, "pct set 100 --memory 1024");
}

#[test]
fn lock_timeout_over_embedded_ssh() {
    lock_timeout(Server::Embedded);
}

#[test]
fn lock_timeout_over_openssh() {
    lock_timeout(Server::OpenSsh);
}

fn snapshots(server: Server) {
    let sim = Sim::start(server, &["eu-south-1/az1"], &[]);
    let h = "eu-south-1/az1";
    create(&sim, h, 100, "--memory 512");
    sim.ok(h, "pct snapshot 100 first --description 'before upgrade'");
    sim.ok(h, "pct set 100 --memory 1024");
    sim.ok(h, "pct snapshot 100 second");
    let out = sim.ssh(h, "pct snapshot 100 first");
    assert_eq!(text(&out).1, "snapshot name 'first' already used\n");
    let out = sim.ssh(h, "pct snapshot 100 current");
    assert_eq!(text(&out).1, "unable to use snapshot name 'current' (reserved name)\n");
    let out = sim.ssh(h, "pct snapshot 100 1bad");
    assert!(text(&out).1.contains("snapname: invalid format - invalid configuration ID '1bad'"));

    let tree = sim.ok(h, "pct listsnapshot 100");
    let lines: Vec<&str> = tree.lines().collect();
    assert_eq!(lines.len(), 3, "{tree}");
    assert!(lines[0].starts_with("`-> first ") && lines[0].ends_with(" before upgrade"), "{tree}");
    assert!(lines[1].starts_with("    `-> second ") && lines[1].ends_with(" no-description"), "{tree}");
    assert!(lines[2].starts_with("        `-> current ") && lines[2].ends_with(" You are here!"), "{tree}");

    let snap = sim.ok(h, "pct config 100 --snapshot first");
    assert!(snap.contains("memory: 512\n") && snap.contains("snaptime: "), "{snap}");
    let json = sim.ok(h, "pvesh get /nodes/az1/lxc/100/snapshot --output-format json");
    let list: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(3));

    sim.ok(h, "pct rollback 100 first");
    let config = sim.ok(h, "pct config 100");
    assert!(config.contains("memory: 512\n") && config.contains("parent: first\n"), "{config}");
    sim.ok(h, "pct delsnapshot 100 first");
    let out = sim.ssh(h, "pct delsnapshot 100 first");
    assert_eq!(text(&out).1, "snapshot 'first' does not exist\n");
    let config = sim.ok(h, "cat /etc/pve/lxc/100.conf 2>/dev/null || cat /etc/pve/nodes/az1/lxc/100.conf");
    assert!(config.contains("\n[second]\n") && !config.contains("[first]"), "{config}");
    assert!(!config.contains("parent: first"), "children of a deleted snapshot are re-parented:\n{config}");
}

#[test]
fn snapshot_cycle_over_embedded_ssh() {
    snapshots(Server::Embedded);
}

#[test]
fn snapshot_cycle_over_openssh() {
    snapshots(Server::OpenSsh);
}

fn firewall(server: Server) {
    let sim = Sim::start(server, &["eu-south-1/az1"], &[]);
    let h = "eu-south-1/az1";
    create(&sim, h, 100, "");
    sim.ok(h, "pvesh create /cluster/firewall/groups --group web --comment 'web servers'");
    let out = sim.ssh(h, "pvesh create /cluster/firewall/groups --group web");
    assert!(text(&out).1.contains("group: Security group 'web' already exists"));
    let out = sim.ssh(h, "pvesh create /cluster/firewall/groups --group abcdefghijklmnopqrstuvwxyz");
    assert!(text(&out).1.contains("group: value may only be 18 characters long"));

    // New rules go to position 0 and are disabled unless --enable 1.
    sim.ok(h, "pvesh create /cluster/firewall/groups/web --type in --action ACCEPT --proto tcp --dport 80");
    sim.ok(h, "pvesh create /cluster/firewall/groups/web --type in --action ACCEPT --proto tcp --dport 443 --enable 1");
    let rules: serde_json::Value =
        serde_json::from_str(&sim.ok(h, "pvesh get /cluster/firewall/groups/web --output-format json")).expect("json");
    assert_eq!(rules[0]["dport"], "443");
    assert_eq!(rules[0]["enable"], 1);
    assert_eq!(rules[1]["dport"], "80");
    assert_eq!(rules[1]["enable"], 0);
    sim.ok(h, "pvesh set /cluster/firewall/groups/web/1 --moveto 0");
    let first: serde_json::Value =
        serde_json::from_str(&sim.ok(h, "pvesh get /cluster/firewall/groups/web/0 --output-format json"))
            .expect("json");
    assert_eq!(first["dport"], "80");
    let out = sim.ssh(h, "pvesh create /cluster/firewall/groups/web --type in --action ACCEPT --dport 22");
    assert!(text(&out).1.contains("proto: missing property - 'dport' requires this property"));
    let out = sim.ssh(h, "pvesh get /cluster/firewall/groups/web/9");
    assert_eq!(text(&out).1, "no rule at position 9\n");

    let fw = sim.ok(h, "cat /etc/pve/firewall/cluster.fw");
    assert_eq!(
        fw, "[group web] # web servers\n\n|IN ACCEPT -p tcp -dport 80\nIN ACCEPT -p tcp -dport 443\n\n",
        "cluster.fw in pve-firewall's format"
    );

    // Attach to the container, enable its firewall.
    sim.ok(h, "pvesh create /nodes/az1/lxc/100/firewall/rules --type group --action web --iface net0 --enable 1");
    sim.ok(h, "pvesh set /nodes/az1/lxc/100/firewall/options --enable 1");
    assert_eq!(sim.ok(h, "cat /etc/pve/firewall/100.fw"), "[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nGROUP web -i net0\n\n");
    let out = sim.ssh(h, "pvesh delete /cluster/firewall/groups/web");
    assert_eq!(text(&out).1, "Security group 'web' is not empty\n");
    sim.ok(h, "pvesh delete /nodes/az1/lxc/100/firewall/rules/0");
    sim.ok(h, "pvesh delete /cluster/firewall/groups/web/1");
    sim.ok(h, "pvesh delete /cluster/firewall/groups/web/0");
    sim.ok(h, "pvesh delete /cluster/firewall/groups/web");
    assert_eq!(sim.ok(h, "pvesh get /cluster/firewall/groups --output-format json"), "[]\n");
}

#[test]
fn firewall_group_cycle_over_embedded_ssh() {
    firewall(Server::Embedded);
}

#[test]
fn firewall_group_cycle_over_openssh() {
    firewall(Server::OpenSsh);
}

fn docker(server: Server) {
    let sim = Sim::start(server, &["eu-south-1/az1"], &[]);
    let h = "eu-south-1/az1";
    create(&sim, h, 100, "--start 1");
    let out = sim.ssh(h, "pct exec 100 -- docker version");
    assert_ne!(out.status.code(), Some(0), "docker is not installed yet");
    let out = sim.ssh(h, "pct exec 100 -- apt-get install docker.io");
    assert_eq!(out.status.code(), Some(1), "apt-get without -y aborts");
    sim.ok(h, "pct exec 100 -- apt-get install -y docker.io docker-compose");
    assert!(sim.ok(h, "pct exec 100 -- docker --version").starts_with("Docker version "));

    let compose = "services:\n  web:\n    image: nginx:1.25\n    ports: [\"8080:80\"]\n    restart: unless-stopped\n";
    let out = sim.ssh_with_input(
        h,
        "pct exec 100 -- sh -c 'mkdir -p /opt/lws/apps/web && cat > /opt/lws/apps/web/docker-compose.yml'",
        compose,
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let file = "/opt/lws/apps/web/docker-compose.yml";
    let out = sim.ssh(h, &format!("pct exec 100 -- docker compose -p web -f {file} up -d"));
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(text(&out).1.contains(" Container web-web-1  Started"));

    let ps = sim.ok(h, &format!("pct exec 100 -- docker compose -p web -f {file} ps --format json"));
    let rows: Vec<serde_json::Value> =
        ps.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["Service"], "web");
    assert_eq!(rows[0]["State"], "running");
    assert_eq!(rows[0]["Publishers"][0]["PublishedPort"], 8080);

    // The container's Docker stops with it and comes back (unless-stopped) when it starts.
    sim.ok(h, "pct stop 100");
    let out = sim.ssh(h, "pct exec 100 -- docker ps");
    assert_eq!(text(&out).1, "container '100' not running!\n");
    sim.ok(h, "pct start 100");
    assert!(sim
        .ok(h, &format!("pct exec 100 -- docker compose -p web -f {file} ps --format json"))
        .contains("\"State\":\"running\""));

    let out = sim.ssh(h, &format!("pct exec 100 -- docker compose -p web -f {file} down"));
    assert!(out.status.success());
    assert!(text(&out).1.contains(" Container web-web-1  Removed"));
    assert_eq!(sim.ok(h, &format!("pct exec 100 -- docker compose -p web -f {file} ps --format json")), "");

    let out = sim.ssh_with_input(h, "pct exec 100 -- chpasswd", "root:correct horse\n");
    assert!(out.status.success());
    let shadow = sim.ok(h, "pct exec 100 -- cat /etc/shadow");
    assert!(shadow.starts_with("root:$5$") && !shadow.contains("correct horse"), "a hash, never the password");
}

#[test]
fn docker_compose_inside_a_container_over_embedded_ssh() {
    docker(Server::Embedded);
}

#[test]
fn docker_compose_inside_a_container_over_openssh() {
    docker(Server::OpenSsh);
}

#[test]
fn migrate_and_clone_between_nodes_of_one_cluster() {
    let sim = Sim::start(Server::Embedded, &["eu-south-1/az1", "eu-south-1/az2", "us-east-1/az1"], &[]);
    create(&sim, "eu-south-1/az1", 100, "--start 1");
    let out = sim.ssh("eu-south-1/az1", "pct migrate 100 az2");
    assert_eq!(text(&out).1, "can't migrate running container without --online or --restart\n");
    let out = sim.ok("eu-south-1/az1", "pct migrate 100 az2 --restart");
    assert!(out.contains("migration finished successfully"), "{out}");
    assert_eq!(sim.ok("eu-south-1/az2", "pct status 100"), "status: running\n");
    assert_eq!(sim.ok("eu-south-1/az1", "pct list"), "");
    let out = sim.ssh("us-east-1/az1", "pct migrate 100 az2");
    assert_eq!(text(&out).1, "no such cluster node 'az2'\n", "a standalone host has no cluster nodes");

    sim.ok("eu-south-1/az2", "pct stop 100");
    sim.ok("eu-south-1/az2", "pct clone 100 101 --hostname copy");
    let config = sim.ok("eu-south-1/az2", "pct config 101");
    assert!(config.contains("hostname: copy\n") && config.contains("vm-101-disk-0"), "{config}");
    let mac = |c: &str| c.lines().find(|l| l.starts_with("net0")).map(str::to_owned);
    assert_ne!(mac(&config), mac(&sim.ok("eu-south-1/az2", "pct config 100")), "clones get new MACs");
}

#[test]
fn given_password_is_kept_and_latency_is_injected_and_logged() {
    let sim =
        Sim::start(Server::Embedded, &["eu-south-1/az1"], &["--latency", "pct=300ms", "--password", "hunter2-sim"]);
    assert_eq!(sim.password(), "hunter2-sim");
    let started = std::time::Instant::now();
    sim.ok("eu-south-1/az1", "pct list");
    assert!(started.elapsed().as_millis() >= 300, "pct start-up latency is injected");
    let entries = sim.log();
    assert!(entries.iter().any(|e| e["kind"] == "connect"), "connections are logged");
    let pct = entries.iter().find(|e| e["kind"] == "tool").expect("tool entry");
    assert_eq!(pct["argv"], serde_json::json!(["pct", "list"]));
    assert_eq!(pct["host"], "eu-south-1/az1");
    assert!(pct["ms"].as_u64().unwrap_or(0) >= 300);
}
