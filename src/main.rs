//! `terraform-provider-lws`: serves the provider to Terraform/OpenTofu over the plugin protocol
//! (gRPC, protocol 6, mTLS), as `lws`. Everything else is in the library (`src/lib.rs`).

use std::process::ExitCode;

fn main() -> ExitCode {
    // tf-provider installs its own file logger when PLUGIN_LOG_FILE is set; only one may exist.
    if std::env::var_os("PLUGIN_LOG_FILE").is_none() {
        lws::logging::init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("terraform-provider-lws: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tf_provider::serve("lws", lws::provider::LwsProvider::new())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("terraform-provider-lws: {e:#}");
            ExitCode::FAILURE
        }
    }
}
