//! The retry path of VMID allocation, made deterministic: the provider's view of the cluster is
//! stale (cached before someone else took VMID 100), so its first `pct create` loses with
//! Proxmox's "already exists" and the next id is used.

mod common;

use std::time::Duration;

use common::sim::{Server, Sim};
use common::terraform::DEBIAN;
use lws::cloud::settings::{parse_file, validate, SshOverrides};
use lws::cloud::Cloud;
use lws::resources::container::apply;
use lws::resources::container::state::{ContainerState, NetworkState};
use tf_provider::value::Value;

#[test]
fn a_vmid_taken_behind_the_providers_back_is_retried_with_a_fresh_one() {
    let sim = Sim::start(Server::Embedded, &["eu-south-1/az1"], &[]);
    let settings = parse_file(&sim.config_file()).expect("config parses");
    let cloud = Cloud::new(validate(settings, Some("eu-south-1".into()), SshOverrides::default()).expect("valid"));
    let host = cloud.host("eu-south-1", "az1").expect("host");
    let planned = ContainerState {
        template: Value::Value(DEBIAN.to_owned()),
        hostname: Value::Value("racer".to_owned()),
        started: Value::Value(false),
        network: Value::Value(vec![NetworkState {
            name: Value::Value("eth0".into()),
            bridge: Value::Value("vmbr0".into()),
            ip: Value::Value("dhcp".into()),
            ..NetworkState::default()
        }]),
        ..ContainerState::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let vmid = runtime.block_on(async {
        let before = host.inventory().await.expect("inventory");
        assert!(before.containers.is_empty());
        sim.ok("eu-south-1/az1", &format!("pct create 100 {DEBIAN} --rootfs local-lvm:4 --hostname outsider"));
        let no_secrets = apply::Secrets { password_wo: None, rotated: false };
        apply::create(&cloud, &host, &planned, &no_secrets, Duration::from_secs(60)).await.map_err(|f| f.error)
    });
    assert_eq!(vmid, Ok(101), "the lost VMID race was retried with the next free id");
    let lost = sim.log().iter().any(|e| {
        e["kind"] == "tool"
            && e["argv"][1] == "create"
            && e["argv"][2] == "100"
            && e["exit"] == 255
            && e["argv"].as_array().is_some_and(|a| a.iter().any(|w| w == "racer"))
    });
    assert!(lost, "the provider's first attempt used the stale id 100 and failed");
    assert!(sim.ok("eu-south-1/az1", "pct config 101").contains("hostname: racer"));
}
