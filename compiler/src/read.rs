//! Stage 1, read: find the spec files, choose versions, and load bytes through [`Loader`].
//!
//! This is the only stage that touches the file system. Later stages load referenced files
//! (relative `$ref`s, recorded examples) through the [`Loader`] trait, so tests and other
//! hosts can serve bytes from anywhere.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::diag::{DiagKind, Diagnostic};

/// Source of file bytes for every stage after discovery.
pub trait Loader: Sync {
    /// Reads a whole file.
    fn load(&self, path: &Path) -> io::Result<Vec<u8>>;

    /// Reads a file that may exist only under another letter case: the Azure DevOps specs
    /// were written on a case-insensitive file system, and some references (recorded
    /// examples) differ in case from the file they mean. Returns the bytes and, when the
    /// name's case differed, the path actually read. The default is exact: [`Loader::load`].
    fn load_any_case(&self, path: &Path) -> io::Result<(Vec<u8>, Option<PathBuf>)> {
        self.load(path).map(|bytes| (bytes, None))
    }
}

/// Reads from the local file system. Folders listed to find a name in another case are
/// remembered (sorted names), so that the recorded examples of one folder are not each a
/// listing of it.
#[derive(Debug, Default)]
pub struct FsLoader {
    listings: std::sync::Mutex<HashMap<PathBuf, Arc<[OsString]>>>,
}

impl FsLoader {
    /// The sorted entry names of `dir`, listed once.
    fn listing(&self, dir: &Path) -> Option<Arc<[OsString]>> {
        if let Some(names) = self.listings.lock().ok()?.get(dir) {
            return Some(names.clone());
        }
        let names: Arc<[OsString]> = sorted_names(dir)?.into();
        if let Ok(mut m) = self.listings.lock() {
            m.insert(dir.to_path_buf(), names.clone());
        }
        Some(names)
    }
}

impl Loader for FsLoader {
    fn load(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }

    fn load_any_case(&self, path: &Path) -> io::Result<(Vec<u8>, Option<PathBuf>)> {
        match fs::read(path) {
            Ok(bytes) => Ok((bytes, None)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                match find_in(path, |d| self.listing(d)) {
                    Some(found) => fs::read(&found).map(|bytes| (bytes, Some(found))),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}

/// The existing path that equals `path` ignoring ASCII case, component by component from
/// its deepest existing ancestor. Where several entries match, the first in byte order
/// wins (deterministic).
pub fn find_any_case(path: &Path) -> Option<PathBuf> {
    find_in(path, |d| sorted_names(d).map(Arc::from))
}

/// [`find_any_case`] with the folder listings of `list` (sorted names).
fn find_in(path: &Path, list: impl Fn(&Path) -> Option<Arc<[OsString]>>) -> Option<PathBuf> {
    let components: Vec<Component> = path.components().collect();
    // The deepest ancestor that exists as written.
    let mut keep = components.len();
    let mut base = PathBuf::new();
    while keep > 0 {
        base = components[..keep].iter().collect();
        if base.exists() {
            break;
        }
        keep -= 1;
    }
    if keep == 0 {
        base = PathBuf::from(".");
    }
    for c in &components[keep..] {
        let Component::Normal(want) = c else {
            return None;
        };
        let want = want.to_str()?;
        let names = list(&base)?;
        let first = names
            .iter()
            .find(|n| n.to_str().is_some_and(|n| n.eq_ignore_ascii_case(want)))?;
        base.push(first);
    }
    (base != path).then_some(base)
}

/// The names in `dir`, sorted (byte order).
fn sorted_names(dir: &Path) -> Option<Vec<OsString>> {
    let mut names: Vec<OsString> = fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    names.sort();
    Some(names)
}

/// Which version folders of an Azure DevOps layout to compile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum VersionSelect {
    /// For every area, its newest cloud (numeric) version folder.
    #[default]
    Latest,
    /// Every version folder, on-premises ones included.
    All,
    /// For every area, the newest cloud version not above this one.
    AtMost(String),
}

/// One spec file to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecFile {
    /// Where to read it.
    pub path: PathBuf,
    /// Path relative to the specs root, `/`-separated (diagnostics and sources use it).
    pub rel: String,
    /// Area folder (Azure DevOps layout), if any.
    pub area: Option<String>,
    /// Version folder (Azure DevOps layout), if any.
    pub version: Option<String>,
    /// True when its version folder holds more than one spec: ids then name the file.
    pub shares_folder: bool,
}

/// The specs found under a root, plus what could not be used.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<SpecFile>,
    pub diagnostics: Vec<Diagnostic>,
}

/// What kind of folder name a version folder has.
#[derive(Debug, Clone, PartialEq, Eq)]
enum VersionKind {
    /// `7.2`: numeric parts.
    Cloud(Vec<u32>),
    /// `azure-devops-server-7.1`, `tfs-4.1`.
    OnPremises,
}

fn version_kind(name: &str) -> Option<VersionKind> {
    if let Some(parts) = numeric_version(name) {
        return Some(VersionKind::Cloud(parts));
    }
    let rest = name
        .strip_prefix("azure-devops-server-")
        .or_else(|| name.strip_prefix("tfs-"))?;
    numeric_version(rest).map(|_| VersionKind::OnPremises)
}

/// Parses `7.2` into `[7, 2]`; `None` unless every dot-separated part is a number.
pub fn numeric_version(s: &str) -> Option<Vec<u32>> {
    s.split('.').map(|p| p.parse::<u32>().ok()).collect()
}

fn cmp_versions(a: &[u32], b: &[u32]) -> Ordering {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            a.get(i)
                .copied()
                .unwrap_or(0)
                .cmp(&b.get(i).copied().unwrap_or(0))
        })
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Finds the spec files under `root`.
///
/// `root` may be one spec file, an Azure DevOps `specification` folder
/// (`<area>/<version>/*.json`), or any other folder, whose top-level JSON and YAML files
/// that declare `swagger` or `openapi` are compiled (other files there are fragments that
/// specs reference).
pub fn discover(root: &Path, select: &VersionSelect) -> Discovery {
    let mut out = Discovery::default();
    let meta = match fs::metadata(root) {
        Ok(m) => m,
        Err(e) => {
            out.diagnostics.push(io_diag(root, &e));
            return out;
        }
    };
    if meta.is_file() {
        let rel = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.files.push(SpecFile {
            path: root.to_path_buf(),
            rel,
            area: None,
            version: None,
            shares_folder: false,
        });
        return out;
    }
    let entries = sorted_entries(root, &mut out.diagnostics);
    let is_azure_layout = entries.iter().filter(|p| p.is_dir()).any(|area| {
        sorted_dir_names(area)
            .iter()
            .any(|v| version_kind(v).is_some())
    });
    if is_azure_layout {
        for area in entries.iter().filter(|p| p.is_dir()) {
            discover_area(root, area, select, &mut out);
        }
    } else {
        for file in entries.iter().filter(|p| p.is_file() && is_spec_like(p)) {
            out.files.push(SpecFile {
                path: file.clone(),
                rel: rel_path(root, file),
                area: None,
                version: None,
                shares_folder: false,
            });
        }
    }
    out
}

fn discover_area(root: &Path, area: &Path, select: &VersionSelect, out: &mut Discovery) {
    let area_name = file_name(area);
    let mut cloud: Vec<(Vec<u32>, String)> = Vec::new();
    let mut on_prem: Vec<String> = Vec::new();
    for name in sorted_dir_names(area) {
        match version_kind(&name) {
            Some(VersionKind::Cloud(v)) => cloud.push((v, name)),
            Some(VersionKind::OnPremises) => on_prem.push(name),
            None => out.diagnostics.push(Diagnostic::new(
                DiagKind::UnknownVersion,
                rel_path(root, &area.join(&name)),
                "",
                format!(
                    "expected a version folder (`7.2`, `azure-devops-server-7.1`, `tfs-4.1`), found `{name}`; skipped"
                ),
            )),
        }
    }
    cloud.sort_by(|a, b| cmp_versions(&a.0, &b.0));
    let specs_in = |version: &str, diags: &mut Vec<Diagnostic>| -> Vec<PathBuf> {
        sorted_entries(&area.join(version), diags)
            .into_iter()
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
            .collect()
    };
    let mut chosen: Vec<(String, Vec<PathBuf>)> = Vec::new();
    match select {
        VersionSelect::All => {
            for name in cloud.into_iter().map(|(_, n)| n).chain(on_prem) {
                let specs = specs_in(&name, &mut out.diagnostics);
                chosen.push((name, specs));
            }
        }
        VersionSelect::Latest | VersionSelect::AtMost(_) => {
            let max = match select {
                VersionSelect::AtMost(m) => numeric_version(m),
                _ => None,
            };
            // The newest version (not above `max`) that holds a spec file.
            let newest = cloud
                .into_iter()
                .rev()
                .filter(|(v, _)| max.as_ref().is_none_or(|m| cmp_versions(v, m).is_le()))
                .map(|(_, name)| {
                    let specs = specs_in(&name, &mut out.diagnostics);
                    (name, specs)
                })
                .find(|(_, specs)| !specs.is_empty());
            match newest {
                Some(found) => chosen.push(found),
                None => out.diagnostics.push(Diagnostic::new(
                    DiagKind::EmptyFolder,
                    rel_path(root, area),
                    "",
                    "no version folder of this area holds a spec file; area skipped",
                )),
            }
        }
    }
    for (version, specs) in chosen {
        if specs.is_empty() {
            out.diagnostics.push(Diagnostic::new(
                DiagKind::EmptyFolder,
                rel_path(root, &area.join(&version)),
                "",
                "no spec file in this version folder",
            ));
        }
        let shares_folder = specs.len() > 1;
        for path in specs {
            out.files.push(SpecFile {
                rel: rel_path(root, &path),
                path,
                area: Some(area_name.clone()),
                version: Some(version.clone()),
                shares_folder,
            });
        }
    }
}

/// A top-level file in a generic folder is a spec when its head names `swagger` or `openapi`.
fn is_spec_like(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if !matches!(ext.as_deref(), Some("json" | "yaml" | "yml")) {
        return false;
    }
    let Ok(bytes) = fs::read(path) else {
        return true; // let the parse stage report it
    };
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    ["\"swagger\"", "\"openapi\"", "swagger:", "openapi:"]
        .iter()
        .any(|k| head.contains(k))
}

fn sorted_entries(dir: &Path, diags: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    match fs::read_dir(dir) {
        Ok(rd) => {
            let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            v.sort();
            v
        }
        Err(e) => {
            diags.push(io_diag(dir, &e));
            Vec::new()
        }
    }
}

fn sorted_dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn io_diag(path: &Path, e: &io::Error) -> Diagnostic {
    Diagnostic::new(
        DiagKind::Io,
        path.display().to_string(),
        "",
        format!("cannot read: {e}"),
    )
}

/// `path` relative to `root`, `/`-separated; `path` itself when it is not below `root`.
pub fn rel_path(root: &Path, path: &Path) -> String {
    let Ok(rel) = path.strip_prefix(root) else {
        return path.display().to_string();
    };
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Joins a relative reference onto the folder of `base` and removes `.` and `..` lexically.
pub fn join_relative(base: &Path, reference: &str) -> PathBuf {
    let dir = base.parent().unwrap_or(Path::new(""));
    let mut out = PathBuf::new();
    for c in dir.join(reference).components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_found_whatever_their_case() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("httpExamples").join("GET__git_Items.json");
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::fs::write(&real, b"{}").unwrap();
        let asked = dir.path().join("httpexamples").join("GET__git_items.JSON");
        assert_eq!(find_any_case(&asked), Some(real.clone()));
        let (bytes, found) = FsLoader::default().load_any_case(&asked).unwrap();
        assert_eq!((bytes.as_slice(), found), (&b"{}"[..], Some(real.clone())));
        // Exact names are read as they are, and report no other path.
        assert_eq!(FsLoader::default().load_any_case(&real).unwrap().1, None);
        let absent = dir.path().join("httpExamples").join("GET__git_blobs.json");
        assert_eq!(find_any_case(&absent), None);
        let err = FsLoader::default().load_any_case(&absent).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(cmp_versions(&[7, 10], &[7, 2]).is_gt());
        assert!(cmp_versions(&[7, 1], &[7, 1, 0]).is_eq());
        assert_eq!(numeric_version("7.2"), Some(vec![7, 2]));
        assert_eq!(numeric_version("7.x"), None);
        assert_eq!(
            version_kind("azure-devops-server-7.1"),
            Some(VersionKind::OnPremises)
        );
        assert_eq!(version_kind("httpExamples"), None);
    }

    #[test]
    fn relative_refs_join_lexically() {
        let p = join_relative(
            Path::new("/s/resources/account/account_get.yml"),
            "../../shared/responses/x.yml",
        );
        assert_eq!(p, PathBuf::from("/s/shared/responses/x.yml"));
    }
}
