//! Stage 6b, links: for each required input that names another resource, the read
//! operation whose result carries it (a data-flow edge: `repositoryId` <-
//! `git.repositories.list` `value[].id`), so a search hit shows the lookup it needs.
//!
//! An input names a resource and one of its attributes: `repositoryId` (the `id` of a
//! repository), `wikiIdentifier`, `repositoryNameOrId`, `subjectDescriptor` (a
//! `descriptor`), `witRefName` (a `referenceName`), `packageName`; a bare `id` or `name`
//! takes its resource from the path segment before it (`/workitems/{id}`). It is carried
//! by a read operation whose items are a type named after that resource (`GitRepository`,
//! `WikiV2`, `WorkItemReference`) with that attribute, in `value[]`, a top-level array,
//! another array of the result (`workItems[]`) or the result itself; failing that, by
//! items with a field of the input's own name (`GitPullRequest.pullRequestId`).
//!
//! Guards against look-alikes: an input that leaves its attribute implied (`team`,
//! `definition`, `type`) links only when its description says it is an id or a name
//! ("Team ID or team name"); another area's operation must list the resource (its last
//! literal path segment, `.../teams`) or be typed after it exactly (a Maven `groupId` is
//! no variable group), and never provides by a same-named field alone.
//!
//! The provider must be callable with what the consumer is given: its own required inputs
//! are among the consumer's. The best provider is a GET before a read POST, the same
//! area's, a list before a get, one listing the resource, the attribute before a
//! same-named field, an exact type name before a suffix, fewer inputs, a shorter path,
//! then catalog order: a pure function of the catalog.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use crate::emit::{properties, resolve};
use crate::ir::{Catalog, OpClass, Operation, ParamIn, Ty, TypeSpace};

/// Where one input of an operation comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The consumer's parameter.
    pub param: String,
    /// Index of the providing operation in [`Catalog::operations`].
    pub op: usize,
    /// Where the value sits in the provider's result (`value[].id`).
    pub field: String,
}

/// One list (or single item) in a read operation's result.
struct Items<'a> {
    collection: bool,
    /// `value[].`, `[].`, `workItems[].` or empty.
    prefix: String,
    /// The item type's name, normalized ([`noun`]); empty when not a named type.
    noun: String,
    fields: Vec<&'a str>,
}

/// What a read operation's result offers.
struct Offer<'a> {
    op: usize,
    get: bool,
    /// The last literal segment of its path, singular (`repository` for
    /// `.../repositories`): the resource it lists.
    resource: String,
    items: Vec<Items<'a>>,
    /// Keys (see [`key`]) of its required inputs.
    needs: Vec<String>,
}

/// Input-name suffixes, lower-case, and the attribute of the resource each one names.
const ATTRIBUTES: [(&str, &str); 6] = [
    ("nameorid", "id"),
    ("identifier", "id"),
    ("descriptor", "descriptor"),
    ("refname", "referenceName"),
    ("id", "id"),
    ("name", "name"),
];

/// `projectId`, `project`, `projectNameOrId` -> `project`: names of one resource compare
/// equal.
fn key(name: &str) -> String {
    parts(name).0
}

/// An input's resource key, the attribute it names, and whether the name said it
/// (`teamId`) or left it implied (`team`, `definition`): `repositoryId` -> (`repository`,
/// `id`, true), `witRefName` -> (`workitemtype`, `referenceName`, true), `project` ->
/// (`project`, `id`, false).
fn parts(name: &str) -> (String, &'static str, bool) {
    let l = name.to_ascii_lowercase();
    let (k, attribute, said) = ATTRIBUTES
        .iter()
        .find_map(|(suffix, attribute)| {
            l.strip_suffix(suffix)
                .filter(|s| !s.is_empty())
                .map(|s| (s.to_string(), *attribute, true))
        })
        .unwrap_or((l, "id", false));
    // The API's own abbreviation: `witRefName` is a work item type's reference name.
    match k.as_str() {
        "wit" => ("workitemtype".into(), attribute, said),
        _ => (k, attribute, said),
    }
}

/// A type name as a resource noun: lower-case, without a version (`WikiV2`) or a suffix
/// that does not change the resource (`TeamProjectReference`, `ProcessInfo`).
fn noun(type_name: &str) -> String {
    let mut n = type_name.to_ascii_lowercase();
    loop {
        let before = n.len();
        let digits = n.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if digits < n.len() {
            n.truncate(digits);
            if n.len() > 1 && n.ends_with('v') {
                n.pop();
            }
        }
        for suffix in ["reference", "ref", "info", "instance", "model", "details"] {
            if n.len() > suffix.len() + 2 && n.ends_with(suffix) {
                n.truncate(n.len() - suffix.len());
            }
        }
        if n.len() == before {
            return n;
        }
    }
}

/// `workitems` -> `workitem`: the runtime's singular of the lower-cased segment.
fn singular(segment: &str) -> String {
    opcat_runtime::singular(&segment.to_ascii_lowercase())
}

/// The required inputs an operation is given in its path or query.
fn inputs(op: &Operation) -> impl Iterator<Item = &str> {
    op.params
        .iter()
        .filter(|p| p.required && matches!(p.location, ParamIn::Path | ParamIn::Query))
        .map(|p| p.name.as_str())
        .filter(|n| {
            !n.eq_ignore_ascii_case("organization") && !n.eq_ignore_ascii_case("api-version")
        })
}

fn items<'a>(
    collection: bool,
    prefix: String,
    ty: &'a Ty,
    types: &'a TypeSpace,
) -> Option<Items<'a>> {
    let mut ty = ty;
    while let Ty::Nullable { inner } = ty {
        ty = inner;
    }
    let noun = match ty {
        Ty::Ref { name } => noun(name),
        _ => String::new(),
    };
    let mut props = Vec::new();
    properties(ty, types, &mut props, 0);
    if props.is_empty() {
        return None;
    }
    Some(Items {
        collection,
        prefix,
        noun,
        fields: props.into_iter().map(|(n, _)| n).collect(),
    })
}

fn offer<'a>(index: usize, op: &'a Operation, types: &'a TypeSpace) -> Option<Offer<'a>> {
    if op.class != OpClass::Read {
        return None;
    }
    let declared = op.returns.ty.as_ref()?;
    let ty = resolve(declared, types);
    let mut lists = Vec::new();
    match ty {
        Ty::Array { items: item } => lists.extend(items(true, "[].".into(), item, types)),
        _ => {
            // `value[]` first, then any other array of the result (`workItems[]`), then
            // the result itself.
            let mut props = Vec::new();
            properties(ty, types, &mut props, 0);
            let mut arrays: Vec<_> = props
                .into_iter()
                .filter_map(|(name, t)| match resolve(t, types) {
                    Ty::Array { items } => Some((name, &**items)),
                    _ => None,
                })
                .collect();
            arrays.sort_by_key(|(name, _)| *name != "value");
            for (name, item) in arrays {
                lists.extend(items(true, format!("{name}[]."), item, types));
            }
            lists.extend(items(false, String::new(), declared, types));
        }
    }
    if lists.is_empty() {
        return None;
    }
    let resource = op
        .path
        .split('/')
        .rfind(|s| !s.is_empty() && !s.starts_with('{'))
        .map(singular)
        .unwrap_or_default();
    Some(Offer {
        op: index,
        get: op.method == "GET",
        resource,
        items: lists,
        needs: inputs(op).map(|n| resolved_key(op, n)).collect(),
    })
}

/// The links of every operation, in catalog order (made in parallel, collected in order).
pub fn links<'t>(
    catalog: &'t Catalog,
    types_of: impl Fn(&Operation) -> &'t TypeSpace + Sync,
) -> Vec<Vec<Link>> {
    // Offers by version folder: a provider is of the consumer's version.
    let mut offers: BTreeMap<&str, Vec<Offer>> = BTreeMap::new();
    for (i, op) in catalog.operations.iter().enumerate() {
        if let Some(o) = offer(i, op, types_of(op)) {
            offers.entry(op.version.as_str()).or_default().push(o);
        }
    }
    let pools: BTreeMap<&str, Pool> = offers
        .iter()
        .map(|(v, offers)| (*v, Pool::new(offers, catalog)))
        .collect();
    catalog
        .operations
        .par_iter()
        .with_max_len(crate::PAR_LEN)
        .enumerate()
        .map(|(i, op)| {
            let given: Vec<String> = op
                .params
                .iter()
                .map(|p| resolved_key(op, &p.name))
                .collect();
            inputs(op)
                .filter_map(|param| {
                    let pool = pools.get(op.version.as_str())?;
                    best(i, op, param, &given, pool, catalog).map(|(o, field)| Link {
                        param: param.to_string(),
                        op: o,
                        field,
                    })
                })
                .collect()
        })
        .collect()
}

/// The offers of one version folder, found by what can provide: another area's operation
/// provides a key only when it lists that resource or its items are named after it, so
/// only the consumer's own area and the offers under its key are looked at.
struct Pool<'o, 'a> {
    offers: &'o [Offer<'a>],
    by_area: HashMap<&'a str, Vec<usize>>,
    by_key: HashMap<&'o str, Vec<usize>>,
}

impl<'o, 'a> Pool<'o, 'a> {
    fn new(offers: &'o [Offer<'a>], catalog: &'a Catalog) -> Self {
        let mut by_area: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
        for (n, o) in offers.iter().enumerate() {
            by_area
                .entry(catalog.operations[o.op].area.as_str())
                .or_default()
                .push(n);
            let mut keys: Vec<&str> = o.items.iter().map(|it| it.noun.as_str()).collect();
            keys.push(&o.resource);
            keys.sort_unstable();
            keys.dedup();
            for k in keys {
                by_key.entry(k).or_default().push(n);
            }
        }
        Pool {
            offers,
            by_area,
            by_key,
        }
    }

    /// Every offer that may provide `key` to an operation of `area` (some twice).
    fn candidates(&self, area: &str, key: &str) -> impl Iterator<Item = &Offer<'a>> {
        let own = self.by_area.get(area).into_iter().flatten();
        let keyed = self.by_key.get(key).into_iter().flatten();
        own.chain(keyed).map(|&n| &self.offers[n])
    }
}

/// [`key`], with a bare `id` or `name` keyed by its resource (`/workitems/{id}`:
/// `workitem`), so a provider that needs the very id it would give is refused.
fn resolved_key(op: &Operation, name: &str) -> String {
    let k = key(name);
    match k.as_str() {
        "id" | "name" => resource_before(&op.path, name).unwrap_or(k),
        _ => k,
    }
}

/// The resource a bare `id` or `name` belongs to: the literal path segment before it.
fn resource_before(path: &str, param: &str) -> Option<String> {
    let at = path.find(&format!("{{{param}}}"))?;
    let segment = path[..at].trim_end_matches('/').rsplit('/').next()?;
    (!segment.starts_with('{') && segment.len() > 2).then(|| singular(segment))
}

fn best(
    index: usize,
    op: &Operation,
    param: &str,
    given: &[String],
    pool: &Pool,
    catalog: &Catalog,
) -> Option<(usize, String)> {
    let (mut k, attribute, mut said) = parts(param);
    // `team`: "Team ID or team name" says the attribute the name leaves implied.
    if !said
        && let Some(d) = op
            .params
            .iter()
            .find(|p| p.name == param)
            .and_then(|p| p.description.as_deref())
    {
        said = d
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| ["id", "ids", "identifier", "name", "guid"].contains(&&*w.to_lowercase()));
    }
    if k == "id" || k == "name" {
        k = resource_before(&op.path, param)?;
    }
    let own_name = param.len() > 2 && !param.eq_ignore_ascii_case(&k);
    // An input that leaves its attribute implied (`type`) links to nothing.
    if k.len() < 3 || !said {
        return None;
    }
    pool.candidates(&op.area, &k)
        .filter(|o| o.op != index && !o.needs.contains(&k))
        .filter(|o| o.needs.iter().all(|n| given.contains(n)))
        .flat_map(|o| o.items.iter().map(move |it| (o, it)))
        .filter_map(|(o, it)| {
            let p = &catalog.operations[o.op];
            let lists_k = o.resource == k;
            let other_area = p.area != op.area;
            // Another area's operation must list the resource or be typed after it exactly.
            if other_area && !lists_k && it.noun != k {
                return None;
            }
            let named = !it.noun.is_empty() && it.noun.ends_with(&k);
            let field = if named && it.fields.contains(&attribute) {
                Some((0u8, attribute))
            } else {
                // A field of the input's own name, or `<resource>Id` for a bare id
                // (`TfvcChangesetRef.changesetId` for `/changesets/{id}`).
                it.fields
                    .iter()
                    .find(|f| {
                        !other_area
                            && ((own_name && f.eq_ignore_ascii_case(param))
                                || (attribute == "id"
                                    && f.len() == k.len() + 2
                                    && f.get(..k.len())
                                        .is_some_and(|h| h.eq_ignore_ascii_case(&k))
                                    && f.get(k.len()..)
                                        .is_some_and(|t| t.eq_ignore_ascii_case("id"))))
                    })
                    .map(|f| (1u8, *f))
            }?;
            let rank = (
                !o.get,
                other_area,
                !it.collection,
                !lists_k,
                field.0,
                it.noun != k,
                o.needs.len(),
                p.path.len(),
                o.op,
            );
            Some((rank, it.prefix.as_str(), field.1))
        })
        .min()
        .map(|(rank, prefix, field)| (rank.8, format!("{prefix}{field}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_one_resource_compare_equal() {
        assert_eq!(key("projectId"), "project");
        assert_eq!(key("project"), "project");
        assert_eq!(key("id"), "id");
        assert_eq!(key("pullRequestId"), "pullrequest");
        assert_eq!(key("repositoryNameOrId"), "repository");
        assert_eq!(parts("wikiIdentifier"), ("wiki".into(), "id", true));
        assert_eq!(
            parts("witRefName"),
            ("workitemtype".into(), "referenceName", true)
        );
        assert_eq!(
            parts("subjectDescriptor"),
            ("subject".into(), "descriptor", true)
        );
        assert_eq!(parts("packageName"), ("package".into(), "name", true));
        assert_eq!(parts("team"), ("team".into(), "id", false));
    }

    #[test]
    fn type_names_become_resource_nouns() {
        assert_eq!(noun("WikiV2"), "wiki");
        assert_eq!(noun("TeamProjectReference"), "teamproject");
        assert_eq!(noun("WorkItemReference"), "workitem");
        assert_eq!(noun("ProcessInfo"), "process");
        assert_eq!(noun("GitRepository"), "gitrepository");
        assert_eq!(noun("Ref"), "ref");
    }

    #[test]
    fn a_bare_id_belongs_to_the_segment_before_it() {
        let path = "/{organization}/{project}/_apis/wit/workitems/{id}";
        assert_eq!(resource_before(path, "id").as_deref(), Some("workitem"));
        assert_eq!(resource_before("/{a}/{id}", "id"), None);
    }
}
