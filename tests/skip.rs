//! A test that cannot run here for want of a peer (FreeRADIUS, Chromium, poppler,
//! PostgreSQL) says so where it will be seen: a line on stderr, and a record in the file
//! named by `URA_TEST_SKIP_LOG`, which `./test` turns into its summary ("skipped: ..." with
//! the command that enables the suite). With the suite's `URA_TEST_REQUIRE_*` variable set
//! to 1 (CI sets them) the missing peer fails the test instead.

use std::io::Write;

/// Whether `URA_TEST_REQUIRE_<name>` asks for the peer to be there.
pub fn required(name: &str) -> bool {
    std::env::var(format!("URA_TEST_REQUIRE_{name}"))
        .is_ok_and(|v| !v.trim().is_empty() && v.trim() != "0")
}

/// Records that `test` of `suite` did not run because of `why`; `enable` is the command
/// that would let it run. Panics instead when `require` (a `URA_TEST_REQUIRE_*` name) is set.
pub fn skip(suite: &str, test: &str, why: &str, enable: &str, require: Option<&str>) {
    if let Some(name) = require
        && required(name)
    {
        panic!("{test}: {why} (URA_TEST_REQUIRE_{name}=1)");
    }
    eprintln!("{test}: SKIPPED: {why} (to run it: {enable})");
    if let Some(path) = std::env::var_os("URA_TEST_SKIP_LOG") {
        let line = format!("{suite}\t{test}\t{why}\t{enable}\n").replace(['\r'], " ");
        // One write per record: concurrent tests append whole lines.
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = file.write_all(line.as_bytes());
        }
    }
}
