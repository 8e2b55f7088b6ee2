//! Who we are to a host: a password, a key (file or inline), or the SSH agent.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use russh::client::Handle;
use russh::keys::agent::client::AgentClient;
use russh::keys::agent::AgentIdentity;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};

use super::secret::Secret;

/// One way to authenticate.
#[derive(Debug, Clone)]
pub enum Credentials {
    Password(Secret),
    KeyFile {
        path: PathBuf,
        passphrase: Option<Secret>,
    },
    /// A private key given inline (PEM/OpenSSH text).
    PrivateKey {
        pem: Secret,
        passphrase: Option<Secret>,
    },
    Agent,
}

impl Credentials {
    /// What this method is called in messages (never the secret itself).
    pub fn describe(&self) -> String {
        match self {
            Credentials::Password(_) => "password".to_owned(),
            Credentials::KeyFile { path, .. } => format!("key file {}", path.display()),
            Credentials::PrivateKey { .. } => "inline private key".to_owned(),
            Credentials::Agent => "SSH agent".to_owned(),
        }
    }

    /// Load and decode the key now, so a bad key file is reported at configuration time.
    pub fn load_key(&self) -> Result<Option<PrivateKey>> {
        match self {
            Credentials::KeyFile { path, passphrase } => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read SSH key file {}", path.display()))?;
                decode(&text, passphrase.as_ref()).with_context(|| format!("SSH key file {}", path.display())).map(Some)
            }
            Credentials::PrivateKey { pem, passphrase } => {
                decode(pem.expose(), passphrase.as_ref()).context("ssh_private_key").map(Some)
            }
            Credentials::Password(_) | Credentials::Agent => Ok(None),
        }
    }
}

fn decode(text: &str, passphrase: Option<&Secret>) -> Result<PrivateKey> {
    russh::keys::decode_secret_key(text, passphrase.map(Secret::expose)).map_err(|e| match e {
        russh::keys::Error::KeyIsEncrypted => anyhow!("the key is encrypted; give its passphrase (ssh_key_passphrase)"),
        other => anyhow!("not a usable private key: {other}"),
    })
}

/// Authenticate `user` on an established connection.
pub async fn authenticate<H: russh::client::Handler>(
    handle: &mut Handle<H>,
    user: &str,
    credentials: &Credentials,
) -> Result<()> {
    let accepted = match credentials {
        Credentials::Password(password) => handle.authenticate_password(user, password.expose()).await?.success(),
        Credentials::KeyFile { .. } | Credentials::PrivateKey { .. } => {
            let key = credentials.load_key()?.ok_or_else(|| anyhow!("no key loaded"))?;
            let hash = handle.best_supported_rsa_hash().await?.flatten();
            handle.authenticate_publickey(user, PrivateKeyWithHashAlg::new(Arc::new(key), hash)).await?.success()
        }
        Credentials::Agent => authenticate_with_agent(handle, user).await?,
    };
    if !accepted {
        bail!("the host refused {} for user '{user}'", credentials.describe());
    }
    Ok(())
}

async fn authenticate_with_agent<H: russh::client::Handler>(handle: &mut Handle<H>, user: &str) -> Result<bool> {
    let mut agent = AgentClient::connect_env().await.context("cannot reach the SSH agent (is SSH_AUTH_SOCK set?)")?;
    let identities = agent.request_identities().await.context("the SSH agent did not list its keys")?;
    if identities.is_empty() {
        bail!("the SSH agent holds no keys");
    }
    let hash = handle.best_supported_rsa_hash().await?.flatten();
    for identity in identities {
        let AgentIdentity::PublicKey { key, .. } = identity else { continue };
        match handle.authenticate_publickey_with(user, key, hash, &mut agent).await {
            Ok(result) if result.success() => return Ok(true),
            _ => continue,
        }
    }
    Ok(false)
}
