//! Fuzz target: artifact bytes through `Catalog::from_bytes` (header, checksum, archive
//! validation), then `verify`, lookups, contracts and a search. Each input is tried twice:
//! as is, and with its header checksum recomputed, so mutations reach the archive and the
//! search index (a crafted file can carry a valid checksum).
//!
//! The runtime turns tantivy's panics on a damaged index into `Error::Index` (catch_unwind),
//! but libFuzzer's panic hook aborts before any unwinding: this target's hook only records
//! the message, and a panic that escapes the runtime is printed and aborts here.
#![no_main]

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

use libfuzzer_sys::fuzz_target;
use opcat_runtime::format::{self, HEADER_LEN};
use opcat_runtime::{Catalog, SearchOptions};

fn exercise(bytes: &[u8]) {
    let Ok(catalog) = Catalog::from_bytes(bytes) else {
        return;
    };
    let _ = catalog.verify();
    let _ = format!("{catalog:?}");
    let _ = (catalog.name(), catalog.source(), catalog.hosts().count());
    let first = catalog.operations().next().map(|o| o.id().to_string());
    for op in catalog.operations().take(4) {
        let _ = (
            op.index(),
            op.file(),
            op.path(),
            op.signature(),
            op.tokens(),
        );
        let _ = catalog.contract(op.id(), &["Thing", "WikiPage"]);
        let _ = catalog.operation(&format!("{}#{}", op.file(), op.operation_id()));
    }
    let query = first.as_deref().unwrap_or("list pull requests");
    let _ = catalog.search(query, &SearchOptions::default());
    let opts = SearchOptions {
        limit: 3,
        area: Some("git".into()),
        method: Some("get".into()),
        read_only: true,
        version: Some("7.2".into()),
        ..SearchOptions::default()
    };
    let _ = catalog.search("create a wiki page", &opts);
}

thread_local! {
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

fn record_panics() {
    panic::set_hook(Box::new(|info| {
        LAST_PANIC.with(|l| *l.borrow_mut() = info.to_string());
    }));
}

fn run(data: &[u8]) {
    exercise(data);
    if data.len() >= HEADER_LEN {
        let mut sealed = data.to_vec();
        let sum = format::checksum(&sealed[HEADER_LEN..]);
        sealed[24..32].copy_from_slice(&sum.to_le_bytes());
        if sealed != data {
            exercise(&sealed);
        }
    }
}

fuzz_target!(init: record_panics(), |data: &[u8]| {
    if panic::catch_unwind(AssertUnwindSafe(|| run(data))).is_err() {
        LAST_PANIC.with(|l| eprintln!("panic escaped the runtime: {}", l.borrow()));
        std::process::abort();
    }
});
