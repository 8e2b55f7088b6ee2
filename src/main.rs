//! `terraform-provider-lws`: serves the provider to Terraform/OpenTofu over the plugin protocol
//! (gRPC, protocol 6, mTLS), as `lws`. Everything else is in the library (`src/lib.rs`).

use std::process::ExitCode;

/// `terraform-provider-lws docs [ROOT]`: write the generated docs under ROOT (default: here).
fn write_docs(root: &std::path::Path) -> ExitCode {
    for (relative, text) in lws::docs::generate(root) {
        let path = root.join(&relative);
        let written = path.parent().map(std::fs::create_dir_all).transpose().and_then(|_| std::fs::write(&path, text));
        if let Err(e) = written {
            eprintln!("terraform-provider-lws: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", relative.display());
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("docs") {
        return write_docs(std::path::Path::new(args.get(1).map(String::as_str).unwrap_or(".")));
    }
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
