//! `lws_template`: an LXC template present on a storage of every host of a region, or of one
//! zone — downloaded from Proxmox's catalogue (`pveam download`) or uploaded from a local file
//! (streamed over SSH to the path `pvesm path` gives). Read back from each host's storage content
//! list; missing on any host means missing (the next apply puts it back where it is gone).
//! Import `<region>/<az or *>/<storage>/<file>`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::cloud::locate::plan_region;
use crate::cloud::{Cloud, Host, Shared};
use crate::pve::node::storages;
use crate::pve::templates::{
    available, check_file_name, download, download_url, file_name_of_url, parse_checksum, remove, stored, upload,
    volume_path,
};
use crate::tf::identity::{Identity, Part, REGION};
use crate::tf::schema::{attributes, computed, list_of_strings, number, optional, optional_computed, string};
use crate::tf::{error_at, known, list_of, path, List};

const IDENTITY: Identity = Identity(&[
    REGION,
    Part { name: "zone", number: false, description: "The zone it is kept in, or `*` for every zone of the region." },
    Part { name: "storage", number: false, description: "The storage." },
    Part { name: "file", number: false, description: "The template's file name." },
]);

/// `pveam download` and uploads: a template is tens to hundreds of MB.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(1800);

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct TemplateState {
    pub id: Value<String>,
    pub region: Value<String>,
    pub az: Value<String>,
    pub storage: Value<String>,
    pub name: Value<String>,
    pub source_file: Value<String>,
    pub source_hash: Value<String>,
    pub url: Value<String>,
    pub checksum: Value<String>,
    pub file_name: Value<String>,
    pub volid: Value<String>,
    pub size: Value<i64>,
    pub zones: List<String>,
}

pub struct TemplateResource {
    shared: Arc<Shared>,
}

impl TemplateResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        TemplateResource { shared }
    }
}

/// Where the template is kept: known region, storage, file and zones.
struct Placement {
    region: String,
    storage: String,
    file: String,
    zones: Vec<String>,
}

impl Placement {
    fn volid(&self) -> String {
        format!("{}:vztmpl/{}", self.storage, self.file)
    }

    fn id(&self, az: Option<&str>) -> String {
        format!("{}/{}/{}/{}", self.region, az.unwrap_or("*"), self.storage, self.file)
    }
}

/// The template's file name: the catalogue name, or `file_name`, or the uploaded file's name.
fn file_name_of(state: &TemplateState) -> Value<String> {
    if !state.file_name.is_null() {
        return state.file_name.clone();
    }
    if !state.name.is_null() {
        return state.name.clone();
    }
    match &state.url {
        Value::Value(url) => return Value::Value(file_name_of_url(url)),
        Value::Unknown => return Value::Unknown,
        Value::Null => {}
    }
    match &state.source_file {
        Value::Value(file) => Value::Value(
            std::path::Path::new(file).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        ),
        Value::Null => Value::Null,
        Value::Unknown => Value::Unknown,
    }
}

/// The zones of `region` a template belongs on: `az`, or all of them; errors at `az`.
fn scope(cloud: &Cloud, region: &str, az: Option<&str>, diags: &mut Diagnostics) -> Option<Vec<String>> {
    let zones = cloud.zones(region).unwrap_or_default();
    match az {
        Some(az) if !zones.iter().any(|z| z == az) => {
            error_at(
                diags,
                path(&["az"]),
                format!("zone '{az}' is not configured in region {region}"),
                zones.join(", "),
            );
            None
        }
        Some(az) => Some(vec![az.to_owned()]),
        None => Some(zones),
    }
}

impl TemplateResource {
    fn placement(&self, state: &TemplateState, diags: &mut Diagnostics) -> Option<(Arc<Cloud>, Placement)> {
        let cloud = self.shared.cloud(diags)?;
        let region = known(&state.region)?;
        let zones = scope(&cloud, &region, known(&state.az).as_deref(), diags)?;
        let storage = known(&state.storage)?;
        let file = known(&file_name_of(state))?;
        Some((cloud, Placement { region, storage, file, zones }))
    }

    /// Where the template is, per zone of the placement; the first unreadable host is an error.
    async fn presence(cloud: &Cloud, at: &Placement) -> Result<Vec<(String, Option<u64>)>, String> {
        let mut found = Vec::new();
        for zone in &at.zones {
            let host =
                cloud.host(&at.region, zone).ok_or_else(|| format!("zone {}/{zone} is not configured", at.region))?;
            let node = host.node().await.map_err(|e| e.to_string())?;
            let list = stored(host.as_ref(), &node, &at.storage).await.map_err(|e| e.to_string())?;
            found.push((zone.clone(), list.iter().find(|t| t.volid == at.volid()).map(|t| t.size)));
        }
        Ok(found)
    }

    /// The state when the template is on every host of the placement; `None` when it is missing
    /// on any.
    async fn read_state(
        cloud: &Cloud,
        at: &Placement,
        config: &TemplateState,
    ) -> Result<(Option<TemplateState>, Vec<String>), String> {
        let found = Self::presence(cloud, at).await?;
        let present: Vec<String> = found.iter().filter(|(_, size)| size.is_some()).map(|(z, _)| z.clone()).collect();
        let size = found.iter().find_map(|(_, size)| *size);
        if present.len() < found.len() {
            return Ok((None, present));
        }
        let az = known(&config.az);
        let state = TemplateState {
            id: Value::Value(at.id(az.as_deref())),
            region: Value::Value(at.region.clone()),
            az: az.map(Value::Value).unwrap_or(Value::Null),
            storage: Value::Value(at.storage.clone()),
            name: config.name.clone(),
            source_file: config.source_file.clone(),
            source_hash: config.source_hash.clone(),
            url: config.url.clone(),
            checksum: config.checksum.clone(),
            file_name: Value::Value(at.file.clone()),
            volid: Value::Value(at.volid()),
            size: size.map(|s| Value::Value(s as i64)).unwrap_or(Value::Null),
            zones: list_of(present.clone()),
        };
        Ok((Some(state), present))
    }

    /// Plan-time facts from the hosts: the storage takes templates everywhere, the catalogue
    /// offers `name`. A host that cannot be reached is left to apply.
    async fn check_hosts(cloud: &Cloud, at: &Placement, name: Option<&str>, diags: &mut Diagnostics) {
        for zone in &at.zones {
            let Some(host) = cloud.host(&at.region, zone) else { continue };
            let Ok(node) = host.node().await else { continue };
            let Ok(list) = storages(host.as_ref(), &node).await else { continue };
            match list.iter().find(|s| s.storage == at.storage) {
                None => {
                    let offered: Vec<&str> = list.iter().map(|s| s.storage.as_str()).collect();
                    error_at(
                        diags,
                        path(&["storage"]),
                        format!("storage '{}' does not exist on {}/{zone}", at.storage, at.region),
                        format!("storages there: {}", offered.join(", ")),
                    );
                    return;
                }
                Some(s) if !s.holds("vztmpl") => {
                    let fit: Vec<&str> =
                        list.iter().filter(|s| s.holds("vztmpl")).map(|s| s.storage.as_str()).collect();
                    error_at(
                        diags,
                        path(&["storage"]),
                        format!(
                            "storage '{}' on {}/{zone} does not hold templates (content: {})",
                            at.storage, at.region, s.content
                        ),
                        format!(
                            "storages with 'vztmpl' content there: {}",
                            if fit.is_empty() { "none".to_owned() } else { fit.join(", ") }
                        ),
                    );
                    return;
                }
                Some(_) => {}
            }
        }
        let Some(name) = name else { return };
        let Some(host) = at.zones.first().and_then(|z| cloud.host(&at.region, z)) else { return };
        if let Ok(catalogue) = available(host.as_ref()).await {
            if !catalogue.iter().any(|(_, t)| t == name) {
                let stem = name.split(['-', '_']).next().unwrap_or(name);
                let similar: Vec<&str> =
                    catalogue.iter().map(|(_, t)| t.as_str()).filter(|t| t.starts_with(stem)).take(8).collect();
                error_at(
                    diags,
                    path(&["name"]),
                    format!("Proxmox's catalogue has no template '{name}'"),
                    if similar.is_empty() {
                        "see `pveam available` on the host, or the lws_templates data source with include_available = true".to_owned()
                    } else {
                        format!("similar: {}", similar.join(", "))
                    },
                );
            }
        }
    }

    /// Put the template on every host of the placement that lacks it.
    async fn put(&self, cloud: &Cloud, at: &Placement, state: &TemplateState, diags: &mut Diagnostics) {
        let found = match Self::presence(cloud, at).await {
            Ok(found) => found,
            Err(e) => {
                diags.root_error("cannot read the storages' templates", e);
                return;
            }
        };
        let mut bytes: Option<Vec<u8>> = None;
        for (zone, size) in found {
            if size.is_some() {
                continue;
            }
            let Some(host) = cloud.host(&at.region, &zone) else { continue };
            let result = match (known(&state.name), known(&state.source_file)) {
                (Some(name), _) => download(host.as_ref(), &at.storage, &name, Some(TRANSFER_TIMEOUT)).await,
                (None, None) if state.url.is_value() => {
                    let url = known(&state.url).unwrap_or_default();
                    let checksum = known(&state.checksum).and_then(|c| parse_checksum(&c).ok());
                    let node = match host.node().await {
                        Ok(node) => node,
                        Err(e) => {
                            diags.root_error(
                                format!("cannot read the node name of {}/{zone}", at.region),
                                e.to_string(),
                            );
                            return;
                        }
                    };
                    let checksum = checksum.as_ref().map(|(a, h)| (a.as_str(), h.as_str()));
                    download_url(host.as_ref(), &node, &at.storage, &url, &at.file, checksum, Some(TRANSFER_TIMEOUT))
                        .await
                }
                (None, Some(file)) => {
                    if bytes.is_none() {
                        match std::fs::read(&file) {
                            Ok(read) => bytes = Some(read),
                            Err(e) => {
                                error_at(diags, path(&["source_file"]), format!("cannot read '{file}'"), e.to_string());
                                return;
                            }
                        }
                    }
                    upload_to(host.as_ref(), &at.volid(), bytes.clone().unwrap_or_default()).await
                }
                _ => continue,
            };
            if let Err(e) = result {
                diags.root_error(
                    format!("putting template {} on {}/{zone} failed", at.volid(), at.region),
                    e.to_string(),
                );
                return;
            }
        }
    }
}

async fn upload_to(host: &Host, volid: &str, bytes: Vec<u8>) -> Result<(), crate::pve::PveError> {
    let target = volume_path(host, volid).await?;
    upload(host, &target, bytes, Some(TRANSFER_TIMEOUT)).await
}

/// Attributes whose change replaces the template. A source attribute the prior state lacks
/// (an import) is taken from the configuration without replacing.
fn replaced_by(prior: &TemplateState, planned: &TemplateState) -> Vec<AttributePath> {
    let changed = |old: &Value<String>, new: &Value<String>, adoptable: bool| {
        if adoptable && old.is_null() {
            return false;
        }
        old != new && !new.is_unknown()
    };
    let mut paths = Vec::new();
    for (name, old, new, adoptable) in [
        ("region", &prior.region, &planned.region, false),
        ("az", &prior.az, &planned.az, false),
        ("storage", &prior.storage, &planned.storage, false),
        ("file_name", &prior.file_name, &planned.file_name, false),
        ("name", &prior.name, &planned.name, true),
        ("source_file", &prior.source_file, &planned.source_file, true),
        ("source_hash", &prior.source_hash, &planned.source_hash, true),
        ("url", &prior.url, &planned.url, true),
        ("checksum", &prior.checksum, &planned.checksum, true),
    ] {
        if changed(old, new, adoptable) {
            paths.push(path(&[name]));
        }
    }
    paths
}

#[async_trait]
impl Resource for TemplateResource {
    type State<'a> = TemplateState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    crate::identity_from_id!(IDENTITY);

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 1,
            block: Block {
                version: 1,
                description: Description::markdown(
                    "An LXC template on a storage of every host of a region (or of one zone), so containers can be created from it: from Proxmox's catalogue (`name`, `pveam download`) or uploaded from a local file (`source_file`). Use its `volid` as an `lws_container`'s `template` and Terraform downloads before it creates. A host where the template has gone missing shows up as a plan to put it back; deleting removes it from every host (containers made from it are not affected).",
                ),
                attributes: attributes(vec![
                    ("id", computed(string(), "`<region>/<az or *>/<storage>/<file>`, the import id.")),
                    ("region", optional_computed(string(), "Region (default: the provider's). Changing it replaces the template.")),
                    ("az", optional(string(), "Only this zone of the region (default: every zone). Changing it replaces the template.")),
                    ("storage", optional_computed(string(), "A storage with `vztmpl` content on every host in scope (default `local`). Checked at plan. Changing it replaces the template.")),
                    ("name", optional(string(), "A template of Proxmox's catalogue (`pveam available`), e.g. `debian-12-standard_12.7-1_amd64.tar.zst`. Checked at plan. Exactly one of `name` and `source_file`.")),
                    ("source_file", optional(string(), "A template file on the machine running Terraform, uploaded over SSH to each host (relative to the working directory). Exactly one of `name` and `source_file`.")),
                    ("source_hash", optional(string(), "Any value that changes with the file's content, e.g. `filesha256(\"debian-custom.tar.zst\")`: a change uploads it again (replacing the template).")),
                    ("url", optional(string(), "An `http(s)://` URL each host downloads the template from itself (`download-url`, as Datacenter → Storage → Download from URL). Exactly one of `name`, `source_file` and `url`.")),
                    ("checksum", optional(string(), "`<algorithm>:<hex>` (md5, sha1, sha224, sha256, sha384 or sha512) the download must match, checked by the host; a mismatch fails and leaves nothing behind.")),
                    ("file_name", optional_computed(string(), "The file name on the storage (default: `name`, `source_file`'s name, or the URL's last part with characters outside `[a-zA-Z0-9_.-]` as `_`). Ends in `.tar`, `.tar.gz`, `.tar.xz`, `.tar.zst` or `.tar.bz2`.")),
                    ("volid", computed(string(), "Volume id, `<storage>:vztmpl/<file>`: the value for `lws_container.template`.")),
                    ("size", computed(number(), "Size in bytes (as the first host's storage lists it).")),
                    ("zones", computed(list_of_strings(), "Zones whose host has the template.")),
                ]),
                ..Block::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        let sources = [&config.name, &config.source_file, &config.url].iter().filter(|v| !v.is_null()).count();
        if sources == 0 {
            error_at(
                diags,
                path(&["name"]),
                "no template source",
                "set `name` (Proxmox's catalogue), `source_file` (a local file to upload) or `url` (downloaded by the hosts)",
            );
        } else if sources > 1 {
            let at = if config.url.is_value() { "url" } else { "source_file" };
            error_at(
                diags,
                path(&[at]),
                "more than one of name, source_file and url are set",
                "a template comes from Proxmox's catalogue (`name`), a local file (`source_file`) or a URL (`url`): keep one",
            );
        }
        if let Some(url) = known(&config.url) {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                error_at(
                    diags,
                    path(&["url"]),
                    format!("invalid url '{url}'"),
                    "Proxmox downloads http:// and https:// URLs only",
                );
            }
        }
        if let Some(checksum) = known(&config.checksum) {
            if let Err(e) = parse_checksum(&checksum) {
                error_at(diags, path(&["checksum"]), "invalid checksum", e);
            }
            if config.url.is_null() {
                error_at(
                    diags,
                    path(&["checksum"]),
                    "checksum without url",
                    "a checksum is checked by the host's download: set url, or remove checksum",
                );
            }
        }
        if let (Some(name), Some(file)) = (known(&config.name), known(&config.file_name)) {
            if name != file {
                error_at(
                    diags,
                    path(&["file_name"]),
                    "file_name differs from name",
                    "`pveam download` stores a catalogue template under its own name: leave file_name unset",
                );
            }
        }
        if let Some(file) = known(&file_name_of(&config)) {
            if let Err(e) = check_file_name(&file) {
                let at = if config.file_name.is_value() {
                    "file_name"
                } else if config.name.is_value() {
                    "name"
                } else if config.url.is_value() {
                    "url"
                } else {
                    "source_file"
                };
                error_at(diags, path(&[at]), "invalid template file name", e);
            }
        }
        if let Some(storage) = known(&config.storage) {
            if !crate::pve::text::is_storage_id(&storage) {
                error_at(
                    diags,
                    path(&["storage"]),
                    format!("invalid storage '{storage}'"),
                    "a Proxmox storage id: a letter, then letters, digits, '-', '_' or '.'",
                );
            }
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let Some((cloud, at)) = self.placement(&state, diags) else { return Some((state, private)) };
        match Self::read_state(&cloud, &at, &state).await {
            Ok((found, _)) => found.map(|s| (s, private)),
            Err(e) => {
                diags.root_error(format!("cannot read template {}", at.volid()), e);
                Some((state, private))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed: Self::State<'a>,
        _config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let cloud = self.shared.cloud(diags)?;
        let mut planned = proposed;
        plan_region(&cloud, &mut planned.region, diags)?;
        if planned.storage.is_null() {
            planned.storage = Value::Value("local".to_owned());
        }
        planned.file_name = file_name_of(&planned);
        planned.size = Value::Unknown;
        if let Some((cloud, at)) = self.placement(&planned, diags) {
            planned.id = Value::Value(at.id(known(&planned.az).as_deref()));
            planned.volid = Value::Value(at.volid());
            planned.zones = list_of(at.zones.clone());
            Self::check_hosts(&cloud, &at, known(&planned.name).as_deref(), diags).await;
            if let Some(file) = known(&planned.source_file) {
                if let Err(e) = std::fs::metadata(&file) {
                    error_at(diags, path(&["source_file"]), format!("cannot read '{file}'"), e.to_string());
                }
            }
        } else {
            planned.id = Value::Unknown;
            planned.volid = Value::Unknown;
            planned.zones = Value::Unknown;
        }
        Some((planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        proposed: Self::State<'a>,
        config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let mut planned = proposed;
        let cloud = self.shared.cloud(diags)?;
        plan_region(&cloud, &mut planned.region, diags)?;
        if planned.storage.is_null() {
            planned.storage = Value::Value("local".to_owned());
        }
        planned.file_name = file_name_of(&planned);
        let replace = replaced_by(&prior, &planned);
        if replace.is_empty() {
            // Same template where it was: what the hosts reported stays.
            planned.size = prior.size;
            planned.volid = prior.volid;
            planned.id = prior.id;
            planned.zones = prior.zones;
            return Some((planned, private, replace));
        }
        let (planned, _) = self.plan_create(diags, planned, config, ValueEmpty::default()).await?;
        Some((planned, private, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let (cloud, at) = self.placement(&planned, diags)?;
        self.put(&cloud, &at, &planned, diags).await;
        match Self::read_state(&cloud, &at, &planned).await {
            Ok((Some(state), _)) => Some((state, private)),
            Ok((None, present)) => {
                if !diags.errors.is_empty() && present.is_empty() {
                    return None;
                }
                // On some hosts only: kept in state (tainted by the error), so the next apply
                // replaces it everywhere rather than leaving copies nobody tracks.
                diags.root_error(
                    format!("template {} is on {} of the {} hosts", at.volid(), present.len(), at.zones.len()),
                    format!("present in: {}", if present.is_empty() { "none".to_owned() } else { present.join(", ") }),
                );
                let mut state = planned;
                state.zones = list_of(present);
                state.size = Value::Null;
                Some((state, private))
            }
            Err(e) => {
                diags.root_error(format!("cannot read template {} back", at.volid()), e);
                let mut state = planned;
                state.size = Value::Null;
                state.zones = list_of(Vec::new());
                Some((state, private))
            }
        }
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        // Only adopted source attributes change in place: nothing to do on the hosts.
        Some((planned, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let (cloud, at) = self.placement(&prior, diags)?;
        for zone in &at.zones {
            let Some(host) = cloud.host(&at.region, zone) else { continue };
            // A shared storage: the first host's removal already removed it for the others.
            if let Err(e) = remove(host.as_ref(), &at.volid()).await {
                diags.root_error(
                    format!("removing template {} from {}/{zone} failed", at.volid(), at.region),
                    e.to_string(),
                );
            }
        }
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let parts: Vec<&str> = id.splitn(4, '/').collect();
        let [region, zone, storage, file] = parts[..] else {
            diags.root_error(
                "invalid import id",
                format!("'{id}' is not <region>/<az or *>/<storage>/<file> (e.g. eu-south-1/*/local/debian-12-standard_12.7-1_amd64.tar.zst)"),
            );
            return None;
        };
        let cloud = self.shared.cloud(diags)?;
        let az = (zone != "*").then(|| zone.to_owned());
        let config = TemplateState {
            region: Value::Value(region.to_owned()),
            az: az.clone().map(Value::Value).unwrap_or(Value::Null),
            storage: Value::Value(storage.to_owned()),
            file_name: Value::Value(file.to_owned()),
            ..TemplateState::default()
        };
        let zones = scope(&cloud, region, az.as_deref(), diags)?;
        let at = Placement { region: region.to_owned(), storage: storage.to_owned(), file: file.to_owned(), zones };
        // A catalogue template is recorded by its catalogue name, so `name = …` plans nothing.
        let catalogue = match at.zones.first().and_then(|z| cloud.host(region, z)) {
            Some(host) => available(host.as_ref()).await.unwrap_or_default(),
            None => Vec::new(),
        };
        match Self::read_state(&cloud, &at, &config).await {
            Ok((Some(mut state), _)) => {
                if catalogue.iter().any(|(_, t)| t == file) {
                    state.name = Value::Value(file.to_owned());
                }
                Some((state, ValueEmpty::default()))
            }
            Ok((None, present)) => {
                diags.root_error(
                    format!("template {} is not on every host of {id}", at.volid()),
                    format!("present in: {}", if present.is_empty() { "none".to_owned() } else { present.join(", ") }),
                );
                None
            }
            Err(e) => {
                diags.root_error(format!("cannot read template {}", at.volid()), e);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_comes_from_the_source() {
        let state = |name: Option<&str>, file: Option<&str>| TemplateState {
            name: name.map(|n| Value::Value(n.to_owned())).unwrap_or(Value::Null),
            source_file: file.map(|f| Value::Value(f.to_owned())).unwrap_or(Value::Null),
            ..TemplateState::default()
        };
        assert_eq!(file_name_of(&state(Some("a.tar.zst"), None)), Value::Value("a.tar.zst".to_owned()));
        assert_eq!(
            file_name_of(&state(None, Some("build/out/custom.tar.gz"))),
            Value::Value("custom.tar.gz".to_owned())
        );
        assert_eq!(file_name_of(&state(None, None)), Value::Null);
    }

    #[test]
    fn an_imported_template_adopts_its_source_without_replacement() {
        let imported = TemplateState { file_name: Value::Value("a.tar".into()), ..TemplateState::default() };
        let configured = TemplateState {
            file_name: Value::Value("a.tar".into()),
            source_file: Value::Value("a.tar".into()),
            ..TemplateState::default()
        };
        assert!(replaced_by(&imported, &configured).is_empty());
        let changed = TemplateState { source_hash: Value::Value("new".into()), ..configured.clone() };
        let prior = TemplateState { source_hash: Value::Value("old".into()), ..configured };
        assert_eq!(replaced_by(&prior, &changed), vec![path(&["source_hash"])]);
    }
}
