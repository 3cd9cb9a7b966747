//! Request preparation on a small synthetic catalog: validation lists every problem,
//! values cannot change the path or the query, hosts and base URLs are checked, the
//! organization comes from configuration.

use std::collections::BTreeMap;
use std::sync::Arc;

use opcat_runtime::format::{
    self, BodyRecord, CatalogData, Location, NameEntry, OpCore, OpRecord, ParamRecord,
};
use opcat_runtime::index::{self, IndexDoc};
use opcat_runtime::{Catalog, PrepareError, Problem, Target, Value};

fn param(name: &str, location: Location, required: bool, kind: &str) -> ParamRecord {
    ParamRecord {
        name: name.into(),
        location,
        required,
        kind: kind.into(),
        ..ParamRecord::default()
    }
}

/// The catalog's labels (versions, api-versions, servers), sorted.
const LABELS: [&str; 9] = [
    "7.1",
    "7.2",
    "7.2-preview.1",
    "azure-devops-server-7.1",
    "http://dev.azure.com",
    "https://app.vssps.visualstudio.com",
    "https://dev.azure.com",
    "https://fabrikam-fiber-inc:8080/DefaultCollection",
    "https://{service}dev.azure.com",
];

fn l(label: &str) -> u32 {
    LABELS.iter().position(|x| *x == label).unwrap() as u32
}

fn catalog() -> Catalog {
    let org = param("organization", Location::Path, true, "string");
    let api = param("api-version", Location::Query, true, "string");
    let ops = vec![
        OpRecord {
            core: Arc::new(OpCore {
                id: "git.items.get".to_owned(),
                method: "GET".into(),
                server: l("https://dev.azure.com"),
                path: "/{organization}/{project}/_apis/git/repositories/{repositoryId}/items"
                    .to_owned()
                    .into(),
                signature: "get(args: { project: string; repositoryId: string; path?: string; \
                        $top?: number; ids?: number[]; state?: State; includeLinks?: boolean }): \
                        Promise<Item>"
                    .to_owned()
                    .into(),
                params: vec![
                    org.clone(),
                    param("project", Location::Path, true, "string"),
                    param("repositoryId", Location::Path, true, "string"),
                    param("path", Location::Query, false, "string"),
                    param("$top", Location::Query, false, "integer"),
                    ParamRecord {
                        collection_format: Some("csv".into()),
                        ..param("ids", Location::Query, false, "array")
                    },
                    ParamRecord {
                        collection_format: Some("multi".into()),
                        ..param("tags", Location::Query, false, "array")
                    },
                    ParamRecord {
                        allowed: vec!["active".into(), "closed".into()],
                        ..param("state", Location::Query, false, "string")
                    },
                    param("includeLinks", Location::Query, false, "boolean"),
                    param("Version", Location::Header, false, "string"),
                    api.clone(),
                ]
                .into(),
                ..OpCore::default()
            }),
            version: l("7.2"),
            api_version: Some(l("7.2-preview.1")),
            ..OpRecord::default()
        },
        OpRecord {
            core: Arc::new(OpCore {
                id: "wit.workItems.update".to_owned(),
                method: "PATCH".into(),
                server: l("https://dev.azure.com"),
                path: "/{organization}/_apis/wit/workitems/{id}".to_owned().into(),
                path_query: Some("bypassRules={bypassRules}&$expand=all".into()),
                signature: "update(args: { id: number; bypassRules?: boolean; body: JsonPatch }): \
                        Promise<WorkItem>"
                    .to_owned()
                    .into(),
                params: vec![
                    org.clone(),
                    param("id", Location::Path, true, "integer"),
                    param("bypassRules", Location::Query, false, "boolean"),
                    api.clone(),
                ]
                .into(),
                body: Some(BodyRecord {
                    name: "document".into(),
                    content_type: "application/json-patch+json".into(),
                    required: true,
                }),
                ..OpCore::default()
            }),
            version: l("7.2"),
            api_version: Some(l("7.2")),
            ..OpRecord::default()
        },
        OpRecord {
            core: Arc::new(OpCore {
                id: "notification.subscriptions.list".to_owned(),
                method: "GET".into(),
                server: l("https://{service}dev.azure.com"),
                path: "/{organization}/_apis/notification/subscriptions"
                    .to_owned()
                    .into(),
                params: vec![org.clone(), api.clone()].into(),
                ..OpCore::default()
            }),
            version: l("7.2"),
            api_version: Some(l("7.2-preview.1")),
            ..OpRecord::default()
        },
        OpRecord {
            core: Arc::new(OpCore {
                id: "accounts.list".to_owned(),
                method: "GET".into(),
                server: l("https://app.vssps.visualstudio.com"),
                path: "/_apis/accounts".to_owned().into(),
                ..OpCore::default()
            }),
            version: l("7.2"),
            ..OpRecord::default()
        },
        OpRecord {
            core: Arc::new(OpCore {
                id: "onprem.projects.list".to_owned(),
                method: "GET".into(),
                server: l("https://fabrikam-fiber-inc:8080/DefaultCollection"),
                path: "/{collection}/_apis/projects/{projectId}".to_owned().into(),
                signature: "list(args: { projectId: string; $top?: number }): Promise<Project>"
                    .to_owned()
                    .into(),
                params: vec![
                    param("collection", Location::Path, true, "string"),
                    param("projectId", Location::Path, true, "string"),
                    param("$top", Location::Query, false, "integer"),
                    api.clone(),
                ]
                .into(),
                ..OpCore::default()
            }),
            version: l("azure-devops-server-7.1"),
            api_version: Some(l("7.1")),
            ..OpRecord::default()
        },
        OpRecord {
            core: Arc::new(OpCore {
                id: "evil.host".to_owned(),
                method: "GET".into(),
                server: l("http://dev.azure.com"),
                path: "/_apis/x".to_owned().into(),
                ..OpCore::default()
            }),
            version: l("7.2"),
            ..OpRecord::default()
        },
    ];
    let docs: Vec<IndexDoc> = ops
        .iter()
        .map(|o| IndexDoc {
            name: o.core.id.to_string(),
            area: "a".into(),
            method: o.core.method.clone(),
            version: LABELS[o.version as usize].into(),
            ..IndexDoc::default()
        })
        .collect();
    let mut names: Vec<NameEntry> = ops
        .iter()
        .enumerate()
        .map(|(i, o)| NameEntry {
            key: o.core.id.to_lowercase(),
            op: i as u32,
        })
        .collect();
    names.sort_by(|a, b| a.key.cmp(&b.key));
    let data = CatalogData {
        name: "test".into(),
        source: "synthetic".into(),
        documents: vec!["a/7.2/a.json".into()],
        operations: ops,
        names,
        types: vec![],
        hosts: vec![
            "https://app.vssps.visualstudio.com".into(),
            "https://dev.azure.com".into(),
            "https://fabrikam-fiber-inc:8080".into(),
            "https://vsrm.dev.azure.com".into(),
            "https://{service}dev.azure.com".into(),
        ],
        labels: LABELS.map(String::from).to_vec(),
        index_files: index::build(&docs).unwrap(),
        index_ops: Vec::new(),
        dense: None,
    };
    Catalog::from_bytes(&format::to_bytes(&data).unwrap()).unwrap()
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

fn fabrikam() -> Target {
    Target {
        organization: Some("fabrikam".into()),
        ..Target::default()
    }
}

#[test]
fn a_full_request() {
    let c = catalog();
    let args = obj(&[
        ("project", s("Fabrikam Fiber")),
        ("repositoryId", s("repo-1")),
        ("path", s("/src/a&b=c#d+e%f.rs")),
        ("$top", Value::Int(5)),
        (
            "ids",
            Value::Array(vec![Value::Int(1), Value::Float(2.0), s("3,4")]),
        ),
        ("tags", Value::Array(vec![s("x"), s("y z")])),
        ("state", s("active")),
        ("includeLinks", Value::Bool(true)),
        ("Version", s("W/\"1\"\r\nX-Evil: 1")),
    ]);
    let p = c.prepare("git.items.get", &args, &fabrikam()).unwrap();
    assert_eq!(p.method, "GET");
    assert_eq!(
        p.url,
        "https://dev.azure.com/fabrikam/Fabrikam%20Fiber/_apis/git/repositories/repo-1/items\
         ?path=%2Fsrc%2Fa%26b%3Dc%23d%2Be%25f.rs&$top=5&ids=1,2,3%2C4&tags=x&tags=y%20z\
         &state=active&includeLinks=true&api-version=7.2-preview.1"
    );
    // A header value cannot smuggle a second header.
    assert_eq!(
        p.headers,
        vec![("Version".to_string(), "W/\"1\"%0D%0AX-Evil: 1".to_string())]
    );
    assert_eq!(p.body, None);
    assert_eq!(p.content_type, None);
}

#[test]
fn every_problem_is_listed_with_the_signature() {
    let c = catalog();
    let args = obj(&[
        ("repositoryId", Value::Int(7)),
        ("$top", s("5")),
        ("state", s("open")),
        ("stat", s("x")),
        ("includelinks", Value::Bool(true)),
        ("ids", Value::Array(vec![obj(&[])])),
        ("organization", s("other")),
        ("api-version", s("1.0")),
    ]);
    let err = c.prepare("git.items.get", &args, &fabrikam()).unwrap_err();
    let PrepareError::Arguments {
        id,
        problems,
        signature,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(id, "git.items.get");
    assert!(signature.starts_with("get(args:"));
    let expect = [
        Problem::WrongType {
            name: "$top".into(),
            expected: "integer".into(),
            found: "string".into(),
        },
        Problem::Bound {
            name: "api-version".into(),
            by: "the operation (its api-version is added)".into(),
        },
        Problem::WrongType {
            name: "ids".into(),
            expected: "an array of strings, numbers or booleans".into(),
            found: "an array holding object".into(),
        },
        Problem::Unknown {
            name: "includelinks".into(),
            hint: Some("includeLinks".into()),
        },
        Problem::Bound {
            name: "organization".into(),
            by: "configuration (--org or AZURE_DEVOPS_ORG)".into(),
        },
        Problem::WrongType {
            name: "repositoryId".into(),
            expected: "string".into(),
            found: "integer".into(),
        },
        Problem::Unknown {
            name: "stat".into(),
            hint: None,
        },
        Problem::NotAllowed {
            name: "state".into(),
            expected: vec!["active".into(), "closed".into()],
            found: "open".into(),
        },
        Problem::Missing {
            name: "project".into(),
            expected: "a string".into(),
        },
    ];
    assert_eq!(problems, &expect);
    let text = err.to_string();
    assert!(text.starts_with("9 problems with the arguments of `git.items.get`:"));
    assert!(text.contains("\n  - missing required argument `project`: expected a string"));
    assert!(text.contains("expected one of \"active\", \"closed\", found \"open\""));
    assert!(text.ends_with(signature.as_str()), "{text}");
}

#[test]
fn path_values_cannot_change_the_path_or_the_query() {
    let c = catalog();
    for evil in [
        "../../_apis/x",
        "a/b?c=d",
        "%2e%2e",
        "..",
        ".",
        "x#frag",
        "a\\b",
        "a;b",
    ] {
        let args = obj(&[("project", s(evil)), ("repositoryId", s(evil))]);
        let p = c.prepare("git.items.get", &args, &fabrikam()).unwrap();
        let (path, query) = p.url.split_once('?').unwrap();
        let path = path.strip_prefix("https://dev.azure.com").unwrap();
        let segments: Vec<&str> = path.split('/').collect();
        assert_eq!(
            segments.len(),
            8,
            "{evil}: {path} has a different number of segments"
        );
        assert_eq!(&segments[..2], &["", "fabrikam"]);
        assert_eq!(&segments[3..6], &["_apis", "git", "repositories"]);
        assert_eq!(segments[7], "items");
        for seg in [segments[2], segments[6]] {
            assert!(seg != "." && seg != "..", "{evil}: dot segment {seg}");
            let decoded = percent_encoding::percent_decode_str(seg)
                .decode_utf8()
                .unwrap();
            assert_eq!(decoded, evil, "{evil}: round trip");
        }
        assert_eq!(query, "api-version=7.2-preview.1", "{evil}: query changed");
        assert!(!p.url.contains('#'));
    }
    // The organization is encoded the same way.
    let target = Target {
        organization: Some("../x?y".into()),
        ..Target::default()
    };
    let args = obj(&[("project", s("p")), ("repositoryId", s("r"))]);
    let p = c.prepare("git.items.get", &args, &target).unwrap();
    assert!(
        p.url.starts_with("https://dev.azure.com/..%2Fx%3Fy/p/"),
        "{}",
        p.url
    );
    // Empty path values would drop a segment.
    let args = obj(&[("project", s("")), ("repositoryId", s("r"))]);
    let err = c.prepare("git.items.get", &args, &fabrikam()).unwrap_err();
    assert!(
        matches!(&err, PrepareError::Arguments { problems, .. }
            if problems == &[Problem::Empty { name: "project".into() }]),
        "{err:?}"
    );
}

#[test]
fn fixed_query_integer_path_and_json_patch_body() {
    let c = catalog();
    let body = Value::Array(vec![obj(&[
        ("op", s("add")),
        ("path", s("/fields/System.Title")),
        ("value", s("Say \"hi\"")),
    ])]);
    let args = obj(&[
        ("id", Value::Float(42.0)),
        ("bypassRules", Value::Bool(true)),
        ("body", body),
    ]);
    let p = c
        .prepare("wit.workItems.update", &args, &fabrikam())
        .unwrap();
    assert_eq!(p.method, "PATCH");
    assert_eq!(
        p.url,
        "https://dev.azure.com/fabrikam/_apis/wit/workitems/42\
         ?bypassRules=true&$expand=all&api-version=7.2"
    );
    assert_eq!(
        String::from_utf8(p.body.unwrap()).unwrap(),
        r#"[{"op":"add","path":"/fields/System.Title","value":"Say \"hi\""}]"#
    );
    assert_eq!(
        p.content_type.as_deref(),
        Some("application/json-patch+json")
    );
    assert!(
        p.headers
            .contains(&("Content-Type".into(), "application/json-patch+json".into()))
    );
    // The body is required; a fractional id is not an integer.
    let err = c
        .prepare(
            "wit.workItems.update",
            &obj(&[("id", Value::Float(1.5))]),
            &fabrikam(),
        )
        .unwrap_err();
    let PrepareError::Arguments { problems, .. } = err else {
        panic!()
    };
    assert_eq!(
        problems,
        vec![
            Problem::WrongType {
                name: "id".into(),
                expected: "integer".into(),
                found: "number".into()
            },
            Problem::Missing {
                name: "body".into(),
                expected: "the request body (application/json-patch+json)".into()
            }
        ]
    );
    // Args must be an object.
    assert!(matches!(
        c.prepare("wit.workItems.update", &s("x"), &fabrikam()),
        Err(PrepareError::NotAnObject { .. })
    ));
}

#[test]
fn organization_comes_from_configuration() {
    let c = catalog();
    let err = c
        .prepare(
            "notification.subscriptions.list",
            &Value::Null,
            &Target::default(),
        )
        .unwrap_err();
    assert!(matches!(err, PrepareError::NoOrganization { .. }), "{err}");
    assert!(err.to_string().contains("AZURE_DEVOPS_ORG"));
    // An operation outside any organization needs none.
    let p = c
        .prepare("accounts.list", &Value::Null, &Target::default())
        .unwrap();
    assert_eq!(p.url, "https://app.vssps.visualstudio.com/_apis/accounts");
}

#[test]
fn host_templates_are_filled_and_checked() {
    let c = catalog();
    let with_service = |service: Option<&str>| Target {
        service: service.map(str::to_string),
        ..fabrikam()
    };
    let url = |service| {
        c.prepare(
            "notification.subscriptions.list",
            &Value::Null,
            &with_service(service),
        )
        .map(|p| p.url)
    };
    assert_eq!(
        url(None).unwrap(),
        "https://dev.azure.com/fabrikam/_apis/notification/subscriptions?api-version=7.2-preview.1"
    );
    assert!(
        url(Some("vsrm."))
            .unwrap()
            .starts_with("https://vsrm.dev.azure.com/fabrikam/")
    );
    for evil in [
        "evil.com/",
        "evil.com#",
        "x@evil.com/",
        "vsrm.dev.azure.com@evil.com/",
        "evil.",
    ] {
        let err = url(Some(evil)).unwrap_err();
        let PrepareError::Host {
            found, expected, ..
        } = &err
        else {
            panic!("{evil}: {err:?}")
        };
        assert!(!expected.iter().any(|h| h.contains('{')), "{expected:?}");
        assert!(!expected.contains(found), "{evil}: {found}");
    }
    // A declared server that is not https is refused too.
    assert!(matches!(
        c.prepare("evil.host", &Value::Null, &fabrikam()),
        Err(PrepareError::Host { .. })
    ));
    assert!(matches!(
        c.prepare("onprem.projects.list", &Value::Null, &fabrikam()),
        Err(PrepareError::OnPremises { .. })
    ));
    assert!(matches!(
        c.prepare("no.such.op", &Value::Null, &fabrikam()),
        Err(PrepareError::UnknownOperation { .. })
    ));
}

/// Azure DevOps Server: on-premises operations go to the configured collection, and only
/// there; `{collection}` is its last segment and not an argument.
#[test]
fn on_premises_operations_go_to_the_configured_collection_only() {
    let c = catalog();
    let server = |url: &str| Target {
        server_url: Some(url.into()),
        ..fabrikam()
    };
    let args = obj(&[
        ("projectId", Value::String("a/../b c".into())),
        ("$top", Value::Int(5)),
    ]);
    let p = c
        .prepare(
            "onprem.projects.list",
            &args,
            &server("https://tfs.example.com/DefaultCollection"),
        )
        .unwrap();
    assert_eq!(
        p.url,
        "https://tfs.example.com/DefaultCollection/_apis/projects/a%2F..%2Fb%20c?$top=5&api-version=7.1"
    );
    // A path prefix (the `tfs` virtual directory) and a port are kept; http is the
    // administrator's choice.
    let p = c
        .prepare(
            "onprem.projects.list",
            &args,
            &server("http://build01:8080/tfs/Fabrikam%20Collection/"),
        )
        .unwrap();
    assert!(
        p.url
            .starts_with("http://build01:8080/tfs/Fabrikam%20Collection/_apis/projects/"),
        "{}",
        p.url
    );
    // The collection is configuration, not an argument.
    let with_collection = obj(&[
        ("projectId", Value::String("p".into())),
        ("collection", Value::String("Other".into())),
    ]);
    let err = c
        .prepare(
            "onprem.projects.list",
            &with_collection,
            &server("https://tfs.example.com/DefaultCollection"),
        )
        .unwrap_err();
    assert!(
        matches!(&err, PrepareError::Arguments { problems, .. }
            if problems == &[Problem::Bound { name: "collection".into(), by: opcat_runtime::prepare::COLLECTION.1.into() }]),
        "{err:?}"
    );
    // Malformed server URLs are refused, naming what is expected.
    for bad in [
        "tfs.example.com/DefaultCollection",
        "https://tfs.example.com",
        "https://user:pw@tfs.example.com/DefaultCollection",
        "https://tfs.example.com/DefaultCollection?x=1",
        "https://tfs.example.com/../DefaultCollection",
        "https://tfs.example.com/Default#Collection",
        "ftp://tfs.example.com/DefaultCollection",
    ] {
        let err = c
            .prepare("onprem.projects.list", &args, &server(bad))
            .unwrap_err();
        assert!(
            matches!(&err, PrepareError::ServerUrl { found, .. } if found == bad),
            "{bad}: {err:?}"
        );
    }
    // Cloud operations ignore the server URL: they still go to their declared host.
    let p = c
        .prepare(
            "accounts.list",
            &Value::Null,
            &server("https://tfs.example.com/DefaultCollection"),
        )
        .unwrap();
    assert!(
        p.url.starts_with("https://app.vssps.visualstudio.com/"),
        "{}",
        p.url
    );
}

#[test]
fn base_url_override_is_loopback_only() {
    let c = catalog();
    let target = |base: &str| Target {
        base_url: Some(base.into()),
        ..fabrikam()
    };
    let p = c
        .prepare(
            "accounts.list",
            &Value::Null,
            &target("http://127.0.0.1:9999/"),
        )
        .unwrap();
    assert_eq!(p.url, "http://127.0.0.1:9999/_apis/accounts");
    for bad in [
        "http://example.com",
        "http://127.0.0.1.nip.io",
        "http://127.0.0.1:80@example.com",
        "http://localhost/prefix",
    ] {
        let err = c
            .prepare("accounts.list", &Value::Null, &target(bad))
            .unwrap_err();
        assert!(matches!(err, PrepareError::BaseUrl { .. }), "{bad}: {err}");
    }
    // The catalog's host rule still applies before the override.
    assert!(matches!(
        c.prepare("evil.host", &Value::Null, &target("http://127.0.0.1:1")),
        Err(PrepareError::Host { .. })
    ));
}

#[test]
fn enum_values_match_ignoring_case_and_are_sent_as_declared() {
    let c = catalog();
    let url = |state: &str| {
        let args = obj(&[
            ("project", s("p")),
            ("repositoryId", s("r")),
            ("state", s(state)),
        ]);
        c.prepare("git.items.get", &args, &fabrikam())
            .map(|p| p.url)
    };
    assert!(url("ACTIVE").unwrap().contains("?state=active&"));
    // Flags: a comma-separated list of allowed values.
    assert!(
        url("Active, closed")
            .unwrap()
            .contains("?state=active%2Cclosed&")
    );
    assert!(matches!(
        url("active,open"),
        Err(PrepareError::Arguments { .. })
    ));
}
