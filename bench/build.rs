//! Compiles the floor service with protox, as the proto crate does, so the
//! benchmark builds without a system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/podauth/bench/v1/floor.proto";
    println!("cargo:rerun-if-changed={proto}");

    let descriptors = protox::compile([proto], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .skip_protoc_run()
        .compile_fds(descriptors)?;
    Ok(())
}
