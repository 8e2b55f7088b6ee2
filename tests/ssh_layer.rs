//! The provider's SSH layer against real SSH servers (the simulator's embedded server and
//! OpenSSH): authentication, host-key policies, stdin, exit codes, timeouts, one connection
//! shared by many concurrent commands, and reconnecting after the server restarts.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::sim::{Server, Sim};
use lws::ssh::{Credentials, Endpoint, Error, HostKeyPolicy, Limits, Remote, Secret};

const HOST: &str = "eu-south-1/az1";

fn endpoint(sim: &Sim, credentials: Credentials, host_key: HostKeyPolicy) -> Endpoint {
    Endpoint {
        label: HOST.to_owned(),
        address: "127.0.0.1".to_owned(),
        port: sim.port(HOST),
        user: "root".to_owned(),
        credentials,
        host_key,
    }
}

fn key_file(sim: &Sim) -> Credentials {
    Credentials::KeyFile { path: sim.state().join("keys/client_ed25519"), passphrase: None }
}

fn pinned(sim: &Sim) -> HostKeyPolicy {
    HostKeyPolicy::Pinned(sim.host(HOST)["host_key_fingerprint"].as_str().expect("fingerprint").to_owned())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

fn commands_run_with_stdin_and_exit_codes(server: Server) {
    let sim = Sim::start(server, &[HOST], &[]);
    let known_hosts = HostKeyPolicy::KnownHosts(sim.state().join("known_hosts"));
    let remote = Remote::new(endpoint(&sim, key_file(&sim), known_hosts), Limits::default());
    runtime().block_on(async {
        let out = remote.exec("hostname", None, None).await.expect("runs");
        assert_eq!((out.status, out.stdout_text()), (Some(0), "az1\n".to_owned()));
        let out = remote.exec("cat", Some(b"secret on stdin\n\x00binary"), None).await.expect("runs");
        assert_eq!(out.stdout, b"secret on stdin\n\x00binary");
        // The test's own command, not one of the provider's (see common::ledger).
        let out = remote.exec("export LWS_SIM_ACTOR=test; pct status 999", None, None).await.expect("runs");
        assert_eq!(out.status, Some(2));
        assert_eq!(out.stderr_text(), "Configuration file 'nodes/az1/lxc/999.conf' does not exist\n");
        let out = remote.exec("exit 7", None, None).await.expect("runs");
        assert_eq!(out.status, Some(7));
    });
}

#[test]
fn commands_run_with_stdin_and_exit_codes_over_embedded_ssh() {
    commands_run_with_stdin_and_exit_codes(Server::Embedded);
}

#[test]
fn commands_run_with_stdin_and_exit_codes_over_openssh() {
    commands_run_with_stdin_and_exit_codes(Server::OpenSsh);
}

#[test]
fn many_concurrent_commands_share_one_connection() {
    let sim = Sim::start(Server::OpenSsh, &[HOST], &[]);
    let limits = Limits { max_sessions: 8, ..Limits::default() };
    let remote = Arc::new(Remote::new(endpoint(&sim, key_file(&sim), pinned(&sim)), limits));
    runtime().block_on(async {
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let remote = remote.clone();
                tokio::spawn(async move { remote.exec(&format!("sleep 0.1; echo {i}"), None, None).await })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            let out = task.await.expect("task").expect("command runs despite sshd's MaxSessions 10");
            assert_eq!(out.stdout_text(), format!("{i}\n"));
        }
    });
    assert_eq!(remote.handshakes(), 1, "one SSH handshake for 40 commands");
}

#[test]
fn password_authentication_works_and_a_wrong_password_is_refused() {
    let sim = Sim::start(Server::Embedded, &[HOST], &["--password", "correct-horse"]);
    let rt = runtime();
    let good = Remote::new(
        endpoint(&sim, Credentials::Password(Secret::new("correct-horse")), pinned(&sim)),
        Limits::default(),
    );
    assert_eq!(rt.block_on(good.exec("hostname", None, None)).expect("runs").stdout_text(), "az1\n");
    let bad = Remote::new(endpoint(&sim, Credentials::Password(Secret::new("wrong")), pinned(&sim)), Limits::default());
    let error = rt.block_on(bad.exec("hostname", None, None)).expect_err("refused");
    let message = error.to_string();
    assert!(matches!(error, Error::Auth { .. }), "{message}");
    assert!(message.contains("refused password for user 'root'"), "{message}");
    assert!(!message.contains("wrong"), "the password never appears in errors: {message}");
}

#[test]
fn host_keys_are_verified_by_default() {
    let sim = Sim::start(Server::Embedded, &[HOST], &[]);
    let rt = runtime();
    let wrong_pin = HostKeyPolicy::Pinned("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned());
    let remote = Remote::new(endpoint(&sim, key_file(&sim), wrong_pin), Limits::default());
    let message = rt.block_on(remote.exec("hostname", None, None)).expect_err("refused").to_string();
    assert!(message.contains("but host_key pins SHA256:AAAA"), "{message}");

    let empty = sim.dir.path.join("empty_known_hosts");
    std::fs::write(&empty, "").expect("write");
    let remote = Remote::new(endpoint(&sim, key_file(&sim), HostKeyPolicy::KnownHosts(empty)), Limits::default());
    let message = rt.block_on(remote.exec("hostname", None, None)).expect_err("refused").to_string();
    assert!(message.contains("is not in") && message.contains("ssh-keyscan"), "{message}");

    // A known_hosts line for this host with another key: the loud refusal.
    let other = Sim::start(Server::Embedded, &[HOST], &[]);
    let other_key = other.host(HOST)["host_public_key"].as_str().expect("key").to_owned();
    let changed = sim.dir.path.join("changed_known_hosts");
    let line = format!(
        "[127.0.0.1]:{} {}\n",
        sim.port(HOST),
        other_key.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
    );
    std::fs::write(&changed, line).expect("write");
    let remote =
        Remote::new(endpoint(&sim, key_file(&sim), HostKeyPolicy::KnownHosts(changed.clone())), Limits::default());
    let message = rt.block_on(remote.exec("hostname", None, None)).expect_err("refused").to_string();
    assert!(message.contains("differs from the one at") && message.contains(":1"), "{message}");

    let remote = Remote::new(endpoint(&sim, key_file(&sim), HostKeyPolicy::AcceptAny), Limits::default());
    assert!(rt.block_on(remote.exec("hostname", None, None)).expect("explicit opt-out connects").success());

    // Checking off (StrictHostKeyChecking no) with that known_hosts: a key goes on, a password
    // is never sent to a host whose key changed (OpenSSH's `continue_unsafe`).
    let unchecked = HostKeyPolicy::Unchecked(changed.clone());
    let remote = Remote::new(endpoint(&sim, key_file(&sim), unchecked.clone()), Limits::default());
    assert!(rt.block_on(remote.exec("hostname", None, None)).expect("a key goes on").success());
    let remote = Remote::new(endpoint(&sim, Credentials::Password(Secret::new("pw")), unchecked), Limits::default());
    let message = rt.block_on(remote.exec("hostname", None, None)).expect_err("no password").to_string();
    assert!(message.contains("differs from the one at") && message.contains("the password is not sent"), "{message}");
}

#[test]
fn commands_time_out_and_connections_fail_after_retries() {
    let sim = Sim::start(Server::Embedded, &[HOST], &[]);
    let rt = runtime();
    let remote = Remote::new(endpoint(&sim, key_file(&sim), pinned(&sim)), Limits::default());
    let error = rt.block_on(remote.exec("sleep 5", None, Some(Duration::from_millis(500)))).expect_err("times out");
    assert!(matches!(error, Error::Timeout { .. }), "{error}");

    let mut nowhere = endpoint(&sim, key_file(&sim), pinned(&sim));
    nowhere.port = free_port();
    let limits = Limits { retries: 2, connect_timeout: Duration::from_secs(2), ..Limits::default() };
    let error = rt.block_on(Remote::new(nowhere, limits).exec("true", None, None)).expect_err("nothing listens");
    assert!(error.to_string().contains("(3 attempt(s))"), "{error}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

#[test]
fn a_dropped_connection_is_reestablished_transparently() {
    let port = free_port().to_string();
    let keep = common::sim::ScratchDir::new("keep");
    let state = keep.path.join("state");
    let sim = Sim::start_at(Server::Embedded, &[HOST], &state, &["--port-base", &port]);
    let remote = Remote::new(endpoint(&sim, key_file(&sim), pinned(&sim)), Limits::default());
    let rt = runtime();
    assert!(rt.block_on(remote.exec("true", None, None)).expect("runs").success());
    // Restart the simulator on the same state and port: the old connection is gone.
    drop(sim);
    let _restarted = Sim::start_at(Server::Embedded, &[HOST], &state, &["--port-base", &port]);
    let out = rt.block_on(remote.exec("hostname", None, None)).expect("reconnects");
    assert_eq!(out.stdout_text(), "az1\n");
    assert_eq!(remote.handshakes(), 2);
}
