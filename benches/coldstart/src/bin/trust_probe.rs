//! Prints, in microseconds, what loading the system trust store costs in a
//! fresh process: `native` is what reqwest's platform verifier does when its
//! client is built, and the SDK's HTTPS client again at its first connection
//! (`rustls-native-certs`: the bundle file plus the hashed-symlink folder,
//! parsed into a root store); `ours` is `function_runtime::TrustRoots::load` (one bundle
//! file, parsed once) plus the SDK re-parsing the PEM it is handed.

use std::time::Instant;

use rustls::pki_types::{CertificateDer, pem::PemObject};

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let start = Instant::now();
    let roots = match which.as_str() {
        "native" => {
            let loaded = rustls_native_certs::load_native_certs();
            let mut store = rustls::RootCertStore::empty();
            store.add_parsable_certificates(loaded.certs);
            store.len()
        }
        "ours" => {
            let roots = function_runtime::TrustRoots::load();
            // The SDK's side: it parses the PEM into its own store.
            let mut sdk_store = rustls::RootCertStore::empty();
            if let Some(pem) = roots.pem() {
                sdk_store.add_parsable_certificates(
                    CertificateDer::pem_slice_iter(pem).filter_map(Result::ok),
                );
            }
            roots.len().min(sdk_store.len())
        }
        _ => {
            eprintln!("usage: trust_probe native|ours");
            std::process::exit(2);
        }
    };
    println!("{} {roots}", start.elapsed().as_micros());
}
