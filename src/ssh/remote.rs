//! One SSH host: a single connection, opened on first use and shared by every command, each
//! command a channel on it (at most `max_sessions` at once — OpenSSH refuses more than its
//! `MaxSessions`, 10 by default). Connect failures are retried with backoff; a connection that
//! dropped is re-established once, transparently; every command has a timeout.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::PublicKey;
use russh::ChannelMsg;
use tokio::sync::{Mutex, Semaphore};

use super::auth::{authenticate, Credentials};
use super::host_key::{verify, HostKeyPolicy, Refusal};

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// A human name for messages (`eu-south-1/az1`).
    pub label: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub credentials: Credentials,
    pub host_key: HostKeyPolicy,
}

/// Time and concurrency limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub connect_timeout: Duration,
    /// `None`: commands may run forever.
    pub command_timeout: Option<Duration>,
    /// Extra connection attempts after the first fails.
    pub retries: u32,
    pub max_sessions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(15),
            command_timeout: Some(Duration::from_secs(60)),
            retries: 2,
            max_sessions: 8,
        }
    }
}

/// What a command left behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// The exit status; `None` if the command died without one (signal, dropped channel).
    pub status: Option<u32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Which of a command's streams a piece of output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Sees a command's output as it arrives (for progress), besides it being collected in
/// [`Output`]. Called from the task reading the channel: keep it quick.
#[derive(Clone)]
pub struct OutputWatch(Arc<WatchFn>);

type WatchFn = dyn Fn(Stream, &[u8]) + Send + Sync;

impl OutputWatch {
    pub fn new(watch: impl Fn(Stream, &[u8]) + Send + Sync + 'static) -> Self {
        OutputWatch(Arc::new(watch))
    }

    fn see(&self, stream: Stream, data: &[u8]) {
        (self.0)(stream, data)
    }
}

impl std::fmt::Debug for OutputWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutputWatch")
    }
}

/// Two watches are the same when they are the same closure.
impl PartialEq for OutputWatch {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for OutputWatch {}

/// Why a command could not be run (not: why it failed — that is its exit status and stderr).
#[derive(Debug)]
pub enum Error {
    Connect {
        endpoint: String,
        attempts: u32,
        reason: String,
    },
    HostKey(Refusal),
    Auth {
        endpoint: String,
        reason: String,
    },
    Timeout {
        endpoint: String,
        after: Duration,
    },
    Channel {
        endpoint: String,
        reason: String,
    },
    /// The bastion in front of the host refused or failed (its own host key, auth, forwarding).
    Bastion {
        endpoint: String,
        bastion: String,
        reason: String,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Connect { endpoint, attempts, reason } => {
                write!(f, "cannot connect to {endpoint} ({attempts} attempt(s)): {reason}")
            }
            Error::HostKey(refusal) => write!(f, "{refusal}"),
            Error::Auth { endpoint, reason } => write!(f, "SSH authentication to {endpoint} failed: {reason}"),
            Error::Timeout { endpoint, after } => write!(
                f,
                "command on {endpoint} did not finish within {}s (raise ssh.command_timeout, or the operation's timeouts)",
                after.as_secs()
            ),
            Error::Channel { endpoint, reason } => write!(f, "SSH session on {endpoint} failed: {reason}"),
            Error::Bastion { endpoint, bastion, reason } => {
                write!(f, "cannot reach {endpoint} through the bastion {bastion}: {reason}")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Verifies the host key during the handshake; remembers why it refused one.
struct Client {
    policy: HostKeyPolicy,
    address: String,
    port: u16,
    refusal: Arc<StdMutex<Option<Refusal>>>,
    /// The fingerprint of the key the host presented (and was trusted).
    presented: Arc<StdMutex<Option<String>>>,
    /// Why that key, accepted unchecked, is not the one known_hosts lists ([`unsafe_key`]).
    unsafe_key: Arc<StdMutex<Option<Refusal>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &russh::keys::PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            return Ok(false);
        };
        let key: &PublicKey = key;
        match verify(&self.policy, &self.address, self.port, key) {
            Ok(()) => {
                if let Ok(mut slot) = self.presented.lock() {
                    *slot = Some(super::host_key::fingerprint(key));
                }
                if let Ok(mut slot) = self.unsafe_key.lock() {
                    *slot = super::host_key::unsafe_key(&self.policy, &self.address, self.port, key);
                }
                Ok(true)
            }
            Err(refusal) => {
                if let Ok(mut slot) = self.refusal.lock() {
                    *slot = Some(refusal);
                }
                Ok(false)
            }
        }
    }
}

/// A host we run commands on.
pub struct Remote {
    endpoint: Endpoint,
    limits: Limits,
    connection: Mutex<Option<Arc<Handle<Client>>>>,
    sessions: Semaphore,
    handshakes: AtomicUsize,
    /// The first "cannot connect" of this run: every later command fails at once with it,
    /// instead of paying connect timeout × retries again for each resource on a dead host.
    unreachable: StdMutex<Option<(u32, String)>>,
    /// The bastion this host is reached through (`ProxyJump`, `jump`): the TCP stream is a
    /// `direct-tcpip` channel of the bastion's own connection, which every host behind it shares.
    via: Option<Arc<Remote>>,
    /// The fingerprint of the host key this host presented, once connected.
    presented_key: Arc<StdMutex<Option<String>>>,
}

/// A stream to a host behind a bastion, on its way.
type Tunnel<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<russh::ChannelStream<client::Msg>, Error>> + Send + 'a>>;

/// Backoff between connection attempts: 250 ms, 500 ms, 1 s, … capped at 4 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << attempt.min(4)))
}

impl Remote {
    pub fn new(endpoint: Endpoint, limits: Limits) -> Self {
        let permits = limits.max_sessions.max(1);
        Remote {
            endpoint,
            limits,
            connection: Mutex::new(None),
            sessions: Semaphore::new(permits),
            handshakes: AtomicUsize::new(0),
            unreachable: StdMutex::new(None),
            via: None,
            presented_key: Arc::new(StdMutex::new(None)),
        }
    }

    /// The `SHA256:` fingerprint of the host key this host presented, once it has been reached:
    /// what tells one machine from another when names and addresses repeat.
    pub fn presented_host_key(&self) -> Option<String> {
        self.presented_key.lock().ok().and_then(|k| k.clone())
    }

    /// Reach this host through `bastion` (itself possibly behind another).
    pub fn through(mut self, bastion: Arc<Remote>) -> Remote {
        self.via = Some(bastion);
        self
    }

    /// A TCP stream to `address:port` as seen from this host: a `direct-tcpip` channel on its
    /// connection (RFC 4254 §7.2), for a host behind it.
    /// (Boxed: a bastion may itself be behind one, so the future is recursive.)
    fn tunnel<'a>(&'a self, address: &'a str, port: u16) -> Tunnel<'a> {
        Box::pin(async move {
            let handle = self.connection().await?;
            let channel =
                handle.channel_open_direct_tcpip(address, u32::from(port), "127.0.0.1", 0).await.map_err(|e| {
                    Error::Channel { endpoint: self.describe(), reason: format!("forwarding to {address}:{port}: {e}") }
                })?;
            Ok(channel.into_stream())
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// How many SSH handshakes this host has needed so far (1 unless a connection dropped).
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }

    fn describe(&self) -> String {
        format!("{} ({}@{}:{})", self.endpoint.label, self.endpoint.user, self.endpoint.address, self.endpoint.port)
    }

    /// The shared connection, opening it if needed.
    async fn connection(&self) -> Result<Arc<Handle<Client>>, Error> {
        let mut slot = self.connection.lock().await;
        if let Some(handle) = slot.as_ref() {
            if !handle.is_closed() {
                return Ok(handle.clone());
            }
            tracing::debug!(host = %self.endpoint.label, "SSH connection dropped; reconnecting");
        }
        if let Some((attempts, reason)) = self.unreachable.lock().ok().and_then(|u| u.clone()) {
            return Err(Error::Connect {
                endpoint: self.describe(),
                attempts,
                reason: format!("{reason} (earlier in this run; not tried again)"),
            });
        }
        match self.connect_with_retries().await {
            Ok(handle) => {
                let handle = Arc::new(handle);
                *slot = Some(handle.clone());
                Ok(handle)
            }
            Err(Error::Connect { endpoint, attempts, reason }) => {
                if let Ok(mut unreachable) = self.unreachable.lock() {
                    *unreachable = Some((attempts, reason.clone()));
                }
                Err(Error::Connect { endpoint, attempts, reason })
            }
            Err(other) => Err(other),
        }
    }

    async fn forget(&self, stale: &Arc<Handle<Client>>) {
        let mut slot = self.connection.lock().await;
        if slot.as_ref().is_some_and(|h| Arc::ptr_eq(h, stale)) {
            *slot = None;
        }
    }

    async fn connect_with_retries(&self) -> Result<Handle<Client>, Error> {
        let attempts = self.limits.retries + 1;
        let mut last = String::new();
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt - 1)).await;
            }
            match self.connect_once().await {
                Ok(handle) => return Ok(handle),
                Err(ConnectError::Fatal(e)) => return Err(e),
                Err(ConnectError::Transient(reason)) => {
                    tracing::debug!(host = %self.endpoint.label, attempt = attempt + 1, %reason, "SSH connect failed");
                    last = reason;
                }
            }
        }
        Err(Error::Connect { endpoint: self.describe(), attempts, reason: last })
    }

    async fn connect_once(&self) -> Result<Handle<Client>, ConnectError> {
        let refusal = Arc::new(StdMutex::new(None));
        let unsafe_key = Arc::new(StdMutex::new(None));
        let client = Client {
            policy: self.endpoint.host_key.clone(),
            address: self.endpoint.address.clone(),
            port: self.endpoint.port,
            refusal: refusal.clone(),
            presented: self.presented_key.clone(),
            unsafe_key: unsafe_key.clone(),
        };
        let mut preferred = russh::Preferred::default();
        if let Some(key) =
            super::host_key::preferred_algorithms(&self.endpoint.host_key, &self.endpoint.address, self.endpoint.port)
        {
            preferred.key = key.into();
        }
        let config = Arc::new(client::Config {
            inactivity_timeout: None,
            keepalive_interval: Some(Duration::from_secs(30)),
            nodelay: true,
            preferred,
            ..Default::default()
        });
        let address = (self.endpoint.address.as_str(), self.endpoint.port);
        let connecting: std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Handle<Client>, russh::Error>> + Send>,
        > = match &self.via {
            None => Box::pin(client::connect(config, address, client)),
            Some(bastion) => {
                let stream = bastion.tunnel(&self.endpoint.address, self.endpoint.port).await.map_err(|e| {
                    let failed = Error::Bastion {
                        endpoint: self.describe(),
                        bastion: bastion.describe(),
                        reason: e.to_string(),
                    };
                    match e {
                        Error::HostKey(_) | Error::Auth { .. } => ConnectError::Fatal(failed),
                        _ => ConnectError::Transient(failed.to_string()),
                    }
                })?;
                Box::pin(client::connect_stream(config, stream, client))
            }
        };
        let mut handle = match tokio::time::timeout(self.limits.connect_timeout, connecting).await {
            Err(_) => {
                return Err(ConnectError::Transient(format!(
                    "no answer within {}s (ssh.connect_timeout)",
                    self.limits.connect_timeout.as_secs()
                )))
            }
            Ok(Err(e)) => {
                if let Some(refused) = refusal.lock().ok().and_then(|mut r| r.take()) {
                    return Err(ConnectError::Fatal(Error::HostKey(refused)));
                }
                return Err(ConnectError::Transient(e.to_string()));
            }
            Ok(Ok(handle)) => handle,
        };
        self.handshakes.fetch_add(1, Ordering::SeqCst);
        if let Some(unsafe_key) = unsafe_key.lock().ok().and_then(|mut slot| slot.take()) {
            if matches!(self.endpoint.credentials, Credentials::Password(_)) {
                return Err(ConnectError::Fatal(Error::Auth {
                    endpoint: self.describe(),
                    reason: format!(
                        "{unsafe_key}. Host key checking is off, so the connection went on, but the password is not sent to a host whose key changed (OpenSSH disables password authentication here too): use a key, or fix known_hosts"
                    ),
                }));
            }
            tracing::warn!(host = %self.endpoint.label, "{unsafe_key}; host key checking is off, so the connection goes on with key authentication");
        }
        let auth = authenticate(&mut handle, &self.endpoint.user, &self.endpoint.credentials);
        match tokio::time::timeout(self.limits.connect_timeout, auth).await {
            Ok(Ok(())) => {
                tracing::debug!(host = %self.endpoint.label, "SSH connected and authenticated");
                Ok(handle)
            }
            Ok(Err(e)) => Err(ConnectError::Fatal(Error::Auth { endpoint: self.describe(), reason: format!("{e:#}") })),
            Err(_) => Err(ConnectError::Transient("authentication did not finish in time".to_owned())),
        }
    }

    /// Run `command` (a complete shell command line) with optional `stdin`, within `timeout`
    /// (default: the configured command timeout).
    pub async fn exec(&self, command: &str, stdin: Option<&[u8]>, timeout: Option<Duration>) -> Result<Output, Error> {
        self.exec_watched(command, stdin, timeout, None).await
    }

    /// [`Remote::exec`], showing the output to `watch` as it arrives.
    pub async fn exec_watched(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        timeout: Option<Duration>,
        watch: Option<&OutputWatch>,
    ) -> Result<Output, Error> {
        let _permit = self
            .sessions
            .acquire()
            .await
            .map_err(|_| Error::Channel { endpoint: self.describe(), reason: "session limiter closed".to_owned() })?;
        let timeout = timeout.or(self.limits.command_timeout);
        let run = self.exec_reconnecting(command, stdin, watch);
        match timeout {
            Some(limit) => match tokio::time::timeout(limit, run).await {
                Ok(result) => result,
                Err(_) => Err(Error::Timeout { endpoint: self.describe(), after: limit }),
            },
            None => run.await,
        }
    }

    async fn exec_reconnecting(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        watch: Option<&OutputWatch>,
    ) -> Result<Output, Error> {
        let handle = self.connection().await?;
        let mut refusals = 0;
        loop {
            match self.exec_on(&handle, command, stdin, watch).await {
                // A live connection whose host refused a session: OpenSSH frees a closing
                // session's `MaxSessions` slot a moment after the client saw it close. The
                // command never started, so try again on the same connection, shortly.
                Err(ExecError::Opening(reason)) if !handle.is_closed() && refusals < SESSION_REFUSALS => {
                    refusals += 1;
                    tracing::debug!(host = %self.endpoint.label, %reason, refusals, "session refused; trying again");
                    tokio::time::sleep(Duration::from_millis(50 * refusals as u64)).await;
                }
                Err(ExecError::Opening(reason)) => {
                    // The connection dropped under us: one fresh connection, one more try.
                    tracing::debug!(host = %self.endpoint.label, %reason, "opening a session failed; reconnecting once");
                    self.forget(&handle).await;
                    let handle = self.connection().await?;
                    return self.exec_on(&handle, command, stdin, watch).await.map_err(|e| self.channel_error(e));
                }
                other => return other.map_err(|e| self.channel_error(e)),
            }
        }
    }

    fn channel_error(&self, error: ExecError) -> Error {
        let reason = match error {
            ExecError::Opening(r) | ExecError::Running(r) => r,
        };
        Error::Channel { endpoint: self.describe(), reason }
    }

    async fn exec_on(
        &self,
        handle: &Handle<Client>,
        command: &str,
        stdin: Option<&[u8]>,
        watch: Option<&OutputWatch>,
    ) -> Result<Output, ExecError> {
        let mut channel = handle.channel_open_session().await.map_err(|e| ExecError::Opening(e.to_string()))?;
        channel.exec(true, command.as_bytes()).await.map_err(|e| ExecError::Opening(e.to_string()))?;
        if let Some(input) = stdin {
            channel.data(input).await.map_err(|e| ExecError::Running(format!("sending input: {e}")))?;
        }
        channel.eof().await.map_err(|e| ExecError::Running(format!("closing input: {e}")))?;
        let mut output = Output::default();
        let mut ended = false;
        while let Some(message) = channel.wait().await {
            match message {
                ChannelMsg::Data { data } => {
                    if let Some(watch) = watch {
                        watch.see(Stream::Stdout, &data);
                    }
                    output.stdout.extend_from_slice(&data)
                }
                ChannelMsg::ExtendedData { data, ext: 1 } => {
                    if let Some(watch) = watch {
                        watch.see(Stream::Stderr, &data);
                    }
                    output.stderr.extend_from_slice(&data)
                }
                ChannelMsg::ExitStatus { exit_status } => {
                    output.status = Some(exit_status);
                    ended = true;
                }
                // Killed by a signal: it ended, without a status (RFC 4254 6.10).
                ChannelMsg::ExitSignal { .. } => ended = true,
                ChannelMsg::Failure => return Err(ExecError::Opening("the host refused to run the command".into())),
                _ => {}
            }
        }
        if !ended {
            // The channel (or the whole connection) went away before the command's end was
            // reported: it may have run to its end, part way, or not at all.
            return Err(ExecError::Running(
                "the connection was lost before the command's exit status arrived (it may have run)".into(),
            ));
        }
        Ok(output)
    }
}

enum ConnectError {
    /// Worth another attempt (network, timeouts).
    Transient(String),
    /// Retrying cannot help (host key refused, credentials rejected).
    Fatal(Error),
}

/// Sessions a live connection may refuse one command before it is given up as broken.
const SESSION_REFUSALS: u32 = 5;

enum ExecError {
    /// The command never started: safe to retry on a new connection.
    Opening(String),
    /// The command may have run: never retried here.
    Running(String),
}
