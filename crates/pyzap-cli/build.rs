//! Strips the `pyzap-launcher` binary in release builds: it is copied into
//! every standalone executable, so its symbols would only cost space.

fn main() {
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        println!("cargo:rustc-link-arg-bin=pyzap-launcher=-s");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
