//! Fuzz target: one spec file's bytes (JSON or YAML) through every compiler stage per file —
//! parse, dialect detection, upgrade, `$ref` bundling, resolution, normalization — then each
//! operation's contract rendering. Bad input must give diagnostics, never a panic.
#![no_main]

use std::io;
use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use opcat_compiler::read::{Loader, SpecFile};
use opcat_compiler::render::{self, RenderOptions};

/// Serves the fuzz input for the spec itself and for any file it references (relative
/// `$ref`s, recorded examples), so bundling and example loading see fuzzed bytes too.
struct Memory<'a>(&'a [u8]);

impl Loader for Memory<'_> {
    fn load(&self, path: &Path) -> io::Result<Vec<u8>> {
        if path.starts_with("/specs") {
            Ok(self.0.to_vec())
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, "outside the specs"))
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let spec = SpecFile {
        path: PathBuf::from("/specs/area/7.2/area.json"),
        rel: "area/7.2/area.json".into(),
        area: Some("area".into()),
        version: Some("7.2".into()),
        shares_folder: false,
    };
    let out = opcat_compiler::compile_file(&spec, Path::new("/specs"), &Memory(data));
    if let Some(doc) = &out.document {
        let opts = RenderOptions::default();
        for op in &out.operations {
            let contract = render::render(op, doc, &opts);
            let _ = render::dts_module(op, doc, &contract);
        }
        for name in doc.types.keys().take(8) {
            let _ = render::render_type(name, doc);
        }
    }
});
