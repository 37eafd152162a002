//! Compiles `podauth/v1/*.proto` with protox, a pure-Rust compiler, so that a
//! plain Rust toolchain builds the workspace without a system `protoc`.

use std::path::PathBuf;

/// Messages whose fields include codes, verifiers or SAML responses.
const SECRET_MESSAGES: [&str; 4] = [
    ".podauth.v1.DeviceCodeProof",
    ".podauth.v1.AuthCodeProof",
    ".podauth.v1.SamlProof",
    ".podauth.v1.GetTokenResponse",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["podauth/v1/agent.proto"];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }

    let descriptors = protox::compile(protos, ["."])?;

    // The descriptor set is also served by gRPC reflection, so `grpcurl`
    // can talk to the agent without the .proto files.
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let descriptor_path = out_dir.join("podauth_descriptor.bin");
    std::fs::write(&descriptor_path, prost::Message::encode_to_vec(&descriptors))?;

    // Messages that carry secrets get a redacting Debug written by hand in
    // `src/redact.rs` instead of the derived one.
    tonic_prost_build::configure()
        .skip_debug(SECRET_MESSAGES)
        .skip_protoc_run()
        .file_descriptor_set_path(&descriptor_path)
        .compile_fds(descriptors)?;
    Ok(())
}
