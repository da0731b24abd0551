//! Regenerates include/usersync.h from src/ffi with cbindgen. The header is checked in; CI
//! fails when a build changes it (see scripts/test.sh).

fn main() {
    // cbindgen reads the whole crate (a `pub const` anywhere lands in the header), so any source
    // change regenerates it: a stale header would pass here and fail on a fresh clone.
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).expect("cbindgen.toml is valid");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("the C header can be generated from src/ffi");
    // `write_to_file` leaves the file alone when nothing changed, so builds do not dirty the tree.
    bindings.write_to_file(format!("{dir}/include/usersync.h"));
}
