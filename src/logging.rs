//! Logs in the form Terraform shows them: one hclog JSON object per line on stderr
//! (`{"@level":"debug","@message":"…","@module":"provider.lws",…}`). Terraform's plugin
//! client reads the provider's stderr and prints these under `TF_LOG`/`TF_LOG_PROVIDER`.
//!
//! Nothing secret is ever passed to a log call (secrets are `ssh::Secret`, which prints `***`,
//! and travel on stdin, which is never logged), so this layer does no redaction of its own.

use std::fmt;
use std::io::Write;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

struct HclogLayer {
    max: Level,
}

struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::String(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        *metadata.level() <= self.max && metadata.target().starts_with("lws")
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields(Map::new());
        event.record(&mut fields);
        let mut line = fields.0;
        let message = line.remove("message").unwrap_or(Value::String(String::new()));
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warn",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        line.insert("@level".into(), Value::String(level.into()));
        line.insert("@message".into(), message);
        line.insert("@module".into(), Value::String("provider.lws".into()));
        if let Ok(text) = serde_json::to_string(&line) {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
    }
}

/// Install the logger. Trace level only when Terraform asks for it (it costs work per call).
pub fn init() {
    let wants_trace = ["TF_LOG_PROVIDER", "TF_LOG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .any(|v| v.eq_ignore_ascii_case("trace") || v.eq_ignore_ascii_case("json"));
    let max = if wants_trace { Level::TRACE } else { Level::DEBUG };
    let _ = tracing_subscriber::registry().with(HclogLayer { max }).try_init();
}
