fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_build::configure()
        .protoc_arg("--experimental_allow_proto3_optional")
        .build_client(false)
        .compile_protos( // lws patch: the old name is deprecated
            &["proto/plugin.proto", "proto/tfplugin6.proto"],
            &["proto"],
        )?;
    Ok(())
}
