// `sqlx::migrate!` embeds the migration files at compile time; without this, editing one
// would not rebuild the crate.
//
// The PostgreSQL cases of the store tests are compiled as ignored ("needs
// PORTCULLIS_TEST_POSTGRES_URL") unless the variable is set when they are built, so a run
// without PostgreSQL shows them as ignored instead of passing cases that never ran. Cargo
// reruns this script (and rebuilds the tests) when the variable changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo::rustc-check-cfg=cfg(portcullis_pg_tests)");
    println!("cargo:rerun-if-env-changed=PORTCULLIS_TEST_POSTGRES_URL");
    if std::env::var("PORTCULLIS_TEST_POSTGRES_URL").is_ok_and(|u| !u.trim().is_empty()) {
        println!("cargo:rustc-cfg=portcullis_pg_tests");
    }
}
