//! The embedded SSH server (russh): one listener per simulated host on 127.0.0.1, public-key
//! and password authentication for one user, and every exec request run through
//! `lws-sim shell` — the same wrapper OpenSSH's `ForceCommand` uses, so both ways in behave
//! alike. Like OpenSSH, a connection may hold at most 10 sessions at once (`MaxSessions`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use russh::keys::{PrivateKey, PublicKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, Server as _, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, ChannelMsg, ChannelOpenFailure, MethodSet};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::journal::{self, Entry};

/// OpenSSH's default `MaxSessions`.
pub const MAX_SESSIONS: usize = 10;

/// What every connection to one simulated host shares.
pub struct HostServer {
    pub label: String,
    pub node: String,
    pub state: PathBuf,
    pub user: String,
    pub password: String,
    pub client_key: PublicKey,
    pub exe: PathBuf,
}

#[derive(Clone)]
struct Listener {
    host: Arc<HostServer>,
}

impl russh::server::Server for Listener {
    type Handler = Connection;

    fn new_client(&mut self, peer: Option<std::net::SocketAddr>) -> Connection {
        let peer = peer.map(|p| p.to_string()).unwrap_or_default();
        if !super::serve::is_probe(&peer) {
            journal::append(
                &self.host.state,
                &Entry {
                    time: journal::now(),
                    kind: "connect",
                    host: &self.host.label,
                    node: &self.host.node,
                    argv: None,
                    command: None,
                    exit: None,
                    ms: None,
                    detail: None,
                    peer: Some(&peer),
                    actor: None,
                },
            );
        }
        Connection { host: self.host.clone(), peer, channels: HashMap::new(), open: Arc::new(AtomicUsize::new(0)) }
    }
}

pub struct Connection {
    host: Arc<HostServer>,
    /// The client's `address:port`.
    peer: String,
    channels: HashMap<ChannelId, Channel<Msg>>,
    open: Arc<AtomicUsize>,
}

/// Compare secrets without leaking how many leading bytes matched.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        if user == self.host.user && same_secret(password, &self.host.password) {
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        if user == self.host.user && offer.public_key.key_data() == self.host.client_key.key_data() {
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn auth_publickey(&mut self, user: &str, key: VerifiedPublicKey<'_>) -> Result<Auth, Self::Error> {
        if user == self.host.user && key.public_key.key_data() == self.host.client_key.key_data() {
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.open.load(Ordering::SeqCst) >= MAX_SESSIONS {
            reply.reject(ChannelOpenFailure::AdministrativelyProhibited).await;
            return Ok(());
        }
        self.open.fetch_add(1, Ordering::SeqCst);
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    /// A bastion's `direct-tcpip` (RFC 4254 §7.2, what `ssh -J` asks for): connect to the
    /// target from here and pipe the channel to it, as OpenSSH's `AllowTcpForwarding yes`
    /// does. Logged as a `forward` entry naming the target, so a test can prove the path.
    async fn channel_open_direct_tcpip(
        &mut self,
        channel: Channel<Msg>,
        host_to_connect: &str,
        port_to_connect: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let target = format!("{host_to_connect}:{port_to_connect}");
        journal::append(
            &self.host.state,
            &Entry {
                time: journal::now(),
                kind: "forward",
                host: &self.host.label,
                node: &self.host.node,
                argv: None,
                command: None,
                exit: None,
                ms: None,
                detail: Some(&target),
                peer: Some(&self.peer),
                actor: None,
            },
        );
        let Ok(port) = u16::try_from(port_to_connect) else {
            reply.reject(ChannelOpenFailure::ConnectFailed).await;
            return Ok(());
        };
        match tokio::net::TcpStream::connect((host_to_connect, port)).await {
            Ok(mut tcp) => {
                reply.accept().await;
                tokio::spawn(async move {
                    let mut stream = channel.into_stream();
                    let _ = tokio::io::copy_bidirectional(&mut stream, &mut tcp).await;
                });
            }
            Err(_) => reply.reject(ChannelOpenFailure::ConnectFailed).await,
        }
        Ok(())
    }

    async fn exec_request(&mut self, id: ChannelId, data: &[u8], session: &mut Session) -> Result<(), Self::Error> {
        let Some(channel) = self.channels.remove(&id) else {
            session.channel_failure(id)?;
            return Ok(());
        };
        session.channel_success(id)?;
        let command = String::from_utf8_lossy(data).into_owned();
        let host = self.host.clone();
        let open = self.open.clone();
        let peer = self.peer.clone();
        let connection = session.handle();
        tokio::spawn(async move {
            run_command(&host, &peer, channel, command, connection).await;
            open.fetch_sub(1, Ordering::SeqCst);
        });
        Ok(())
    }

    async fn shell_request(&mut self, id: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        session.channel_failure(id)?;
        Ok(())
    }

    async fn channel_close(&mut self, id: ChannelId, _session: &mut Session) -> Result<(), Self::Error> {
        // A session closed before it ran anything frees its slot here.
        if self.channels.remove(&id).is_some() {
            self.open.fetch_sub(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// Run one command through `lws-sim shell`, wiring the channel to its stdin/stdout/stderr.
async fn run_command(
    host: &HostServer,
    peer: &str,
    channel: Channel<Msg>,
    command: String,
    connection: russh::server::Handle,
) {
    let (mut reader, writer) = channel.split();
    let child = tokio::process::Command::new(&host.exe)
        .arg("shell")
        .arg("--state")
        .arg(&host.state)
        .arg("--host")
        .arg(&host.label)
        .env("SSH_ORIGINAL_COMMAND", &command)
        // OpenSSH's format (client address, client port, server address, server port); only the
        // client half is used, to tell connections apart in the command log.
        .env("SSH_CONNECTION", format!("{} 127.0.0.1 0", peer.replace(':', " ")))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            let _ = writer.extended_data_bytes(1, format!("lws-sim: cannot start shell: {e}\n").into_bytes()).await;
            let _ = writer.exit_status(255).await;
            let _ = writer.eof().await;
            let _ = writer.close().await;
            return;
        }
    };
    let mut stdin = child.stdin.take();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let mut out_writer = writer.make_writer();
    let mut err_writer = writer.make_writer_ext(Some(1));

    let feed_stdin = async {
        while let Some(message) = reader.wait().await {
            match message {
                ChannelMsg::Data { data } => {
                    if let Some(pipe) = stdin.as_mut() {
                        if pipe.write_all(&data).await.is_err() {
                            stdin = None;
                        }
                    }
                }
                ChannelMsg::Eof | ChannelMsg::Close => break,
                _ => {}
            }
        }
        drop(stdin.take());
    };
    let copy_out = async {
        if let Some(pipe) = stdout.as_mut() {
            let _ = tokio::io::copy(pipe, &mut out_writer).await;
            let _ = out_writer.flush().await;
        }
    };
    let copy_err = async {
        if let Some(pipe) = stderr.as_mut() {
            let _ = tokio::io::copy(pipe, &mut err_writer).await;
            let _ = err_writer.flush().await;
        }
    };
    // stdin stays open until the client sends EOF; output finishing must not wait for it.
    let outputs = async { tokio::join!(copy_out, copy_err) };
    tokio::select! {
        _ = outputs => {}
        _ = async { feed_stdin.await; std::future::pending::<()>().await } => {}
    }
    let shell_pid = child.id();
    let code = child.wait().await.ok().and_then(|s| s.code()).unwrap_or(255);
    // A `drop` fault fired in this session: the connection goes before the exit status.
    if shell_pid.is_some_and(|pid| super::faults::take_dropped(&host.state, pid)) {
        let _ = connection
            .disconnect(russh::Disconnect::ByApplication, "connection dropped (faults.json)".into(), String::new())
            .await;
        return;
    }
    let _ = writer.exit_status(code as u32).await;
    let _ = writer.eof().await;
    let _ = writer.close().await;
}

/// Serve one simulated host on `listener` until the process ends.
pub async fn serve(listener: TcpListener, host_key: PrivateKey, host: HostServer) -> std::io::Result<()> {
    let config = russh::server::Config {
        keys: vec![host_key],
        methods: MethodSet::from(&[russh::MethodKind::PublicKey, russh::MethodKind::Password][..]),
        auth_rejection_time: std::time::Duration::from_millis(200),
        auth_rejection_time_initial: Some(std::time::Duration::ZERO),
        inactivity_timeout: None,
        nodelay: true,
        ..Default::default()
    };
    let mut server = Listener { host: Arc::new(host) };
    server.run_on_socket(Arc::new(config), &listener).await
}
