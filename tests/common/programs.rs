//! Chained programs for the end-to-end tests of `execute` (tests/execute.rs through
//! `opcat exec`, tests/mcp.rs through an MCP session): each is written as a model writes it
//! from a search answer alone (the `api.<id>(args)` declarations and result fields), chains
//! 2-4 dependent calls, and is checked against what the fake Azure DevOps saw and answered:
//! the operations called, each value that flowed from one answer into a later request, and
//! the returned value against the recorded bodies.
//!
//! The corpus records no example for the `build` and `pipelines` areas (two in build, none
//! for builds, timelines, pipelines or runs), so the latest-release-of-a-release-pipeline
//! chain stands for "builds, then the latest failed build's timeline", and the
//! project -> team -> team members chain for "pipelines, then run one" (the recorded sprint
//! list answers `{values: [...]}`, not the array its contract states, so a sprint chain
//! would test the recording, not the executor).

#![allow(dead_code)]

use serde_json::Value as Json;

/// One request the fake answered, as a check sees it.
pub struct Answered<'a> {
    pub op_id: &'a str,
    pub target: &'a str,
    pub body: &'a [u8],
    pub answered: &'a Json,
}

pub struct Chain {
    pub name: &'static str,
    /// The task as a model would put it to one `search` (one query per step): the answer
    /// must declare every operation the program calls.
    pub search: &'static [&'static str],
    pub code: &'static str,
    /// The operations the program must call (in this order when `ordered`).
    pub ops: &'static [&'static str],
    pub ordered: bool,
    /// (operation answered, JSON pointer into its answer, later operation): the value must
    /// appear in the later request's path, query or body.
    pub flows: &'static [(&'static str, &'static str, &'static str)],
    /// Checks the returned value against the answers.
    pub result: fn(&Json, &[Answered]) -> Result<(), String>,
}

fn answer<'a>(seen: &'a [Answered], op: &str) -> Result<&'a Json, String> {
    seen.iter()
        .find(|s| s.op_id == op)
        .map(|s| s.answered)
        .ok_or_else(|| format!("{op} was not called"))
}

fn at<'a>(json: &'a Json, pointer: &str) -> Result<&'a Json, String> {
    json.pointer(pointer)
        .ok_or_else(|| format!("no {pointer} in {}", short(json)))
}

fn short(json: &Json) -> String {
    json.to_string().chars().take(300).collect()
}

fn same(what: &str, got: Option<&Json>, want: &Json) -> Result<(), String> {
    if got == Some(want) {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want}"))
    }
}

/// The values of `field` in each item of the array at `pointer`.
fn each(json: &Json, pointer: &str, field: &str) -> Result<Vec<Json>, String> {
    Ok(at(json, pointer)?
        .as_array()
        .ok_or_else(|| format!("{pointer} is not an array"))?
        .iter()
        .map(|v| v.pointer(field).cloned().unwrap_or(Json::Null))
        .collect())
}

pub const CHAINS: &[Chain] = &[
    Chain {
        name: "repositories-then-active-pull-requests",
        search: &[
            "list the git repositories of a project",
            "list the active pull requests of a repository",
        ],
        code: r#"const project = "Fabrikam-Fiber-Git";
const repos = await api.git.repositories.list({ project });
const repo = repos.value[0];
const prs = await api.git.pullRequests.getPullRequests({
  project,
  repositoryId: repo.id,
  "searchCriteria.status": "active",
});
return {
  repository: repo.name,
  pullRequests: prs.value.map((p) => ({ id: p.pullRequestId, title: p.title })),
};"#,
        ops: &["git.repositories.list", "git.pullRequests.getPullRequests"],
        ordered: true,
        flows: &[(
            "git.repositories.list",
            "/value/0/id",
            "git.pullRequests.getPullRequests",
        )],
        result: |r, seen| {
            let repos = answer(seen, "git.repositories.list")?;
            same(
                "repository",
                r.get("repository"),
                at(repos, "/value/0/name")?,
            )?;
            let prs = answer(seen, "git.pullRequests.getPullRequests")?;
            let want = each(prs, "/value", "/pullRequestId")?;
            let got = each(r, "/pullRequests", "/id")?;
            (got == want && !got.is_empty())
                .then_some(())
                .ok_or(format!("pull requests {got:?}, want {want:?}"))
        },
    },
    Chain {
        name: "wiql-then-work-items",
        search: &["run a WIQL query", "get several work items by their ids"],
        code: r#"```ts
const project = "Fabrikam-Fiber-Git";
const q = await api.wit.wiql.queryByWiql({
  project,
  team: "Fabrikam-Fiber-Git Team",
  body: {
    query: "Select [System.Id] From WorkItems Where [System.WorkItemType] = 'Bug' And [System.State] <> 'Closed'",
  },
});
const ids: number[] = q.workItems.slice(0, 50).map((w: { id: number }) => w.id);
if (ids.length === 0) return [];
const items = await api.wit.workItems.list({
  project,
  ids: ids.join(","),
  fields: "System.Id,System.Title,System.State",
});
return items.value.map((w: any) => ({ id: w.id, title: w.fields["System.Title"] }));
```"#,
        ops: &["wit.wiql.queryByWiql", "wit.workItems.list"],
        ordered: true,
        flows: &[(
            "wit.wiql.queryByWiql",
            "/workItems/0/id",
            "wit.workItems.list",
        )],
        result: |r, seen| {
            let items = answer(seen, "wit.workItems.list")?;
            let want = each(items, "/value", "/id")?;
            let got = each(r, "", "/id")?;
            (got == want && !got.is_empty())
                .then_some(())
                .ok_or(format!("work items {got:?}, want {want:?}"))
        },
    },
    Chain {
        name: "create-work-item-then-comment",
        search: &["create a work item", "add a comment to a work item"],
        code: r#"async () => {
  const project = "Fabrikam-Fiber-Git";
  const bug = await api.wit.workItems.create({
    project,
    type: "Bug",
    body: [
      { op: "add", path: "/fields/System.Title", value: "Saving a large file crashes the editor" },
    ],
  });
  const comment = await api.wit.comments.addComment({
    project,
    workItemId: bug.id,
    body: { text: "Seen on build 20.1; repro steps in the description." },
  });
  console.log(`created ${bug.id}: ${comment.text}`);
  return { workItem: bug.id, comment: comment.text };
}"#,
        ops: &["wit.workItems.create", "wit.comments.addComment"],
        ordered: true,
        flows: &[("wit.workItems.create", "/id", "wit.comments.addComment")],
        result: |r, seen| {
            same(
                "workItem",
                r.get("workItem"),
                at(answer(seen, "wit.workItems.create")?, "/id")?,
            )?;
            same(
                "comment",
                r.get("comment"),
                at(answer(seen, "wit.comments.addComment")?, "/text")?,
            )
        },
    },
    Chain {
        name: "release-pipeline-then-latest-release",
        search: &[
            "list release definitions",
            "list the releases of a release definition",
            "get a release",
        ],
        code: r#"const project = "MyProject";
const defs = await api.release.definitions.list({ project });
const def = defs.value[0];
const releases = await api.release.releases.list({ project, definitionId: def.id, $top: 1 });
if (releases.value.length === 0) return { definition: def.name, release: null };
const release = await api.release.releases.getRelease({ project, releaseId: releases.value[0].id });
return {
  definition: def.name,
  release: release.name,
  environments: (release.environments ?? []).map((e) => ({ name: e.name, status: e.status })),
};"#,
        ops: &[
            "release.definitions.list",
            "release.releases.list",
            "release.releases.getRelease",
        ],
        ordered: true,
        flows: &[
            (
                "release.definitions.list",
                "/value/0/id",
                "release.releases.list",
            ),
            (
                "release.releases.list",
                "/value/0/id",
                "release.releases.getRelease",
            ),
        ],
        result: |r, seen| {
            let defs = answer(seen, "release.definitions.list")?;
            same(
                "definition",
                r.get("definition"),
                at(defs, "/value/0/name")?,
            )?;
            let release = answer(seen, "release.releases.getRelease")?;
            same("release", r.get("release"), at(release, "/name")?)?;
            let want = each(release, "/environments", "/name")?;
            let got = each(r, "/environments", "/name")?;
            (got == want)
                .then_some(())
                .ok_or(format!("environments {got:?}, want {want:?}"))
        },
    },
    Chain {
        name: "project-team-members",
        search: &[
            "list projects",
            "list the teams of a project",
            "list the members of a team",
        ],
        code: r#"interface Named { id: string; name: string }
const projects = await api.core.projects.list({});
const project = projects.value[0] as Named;
const teams = await api.core.teams.getTeams({ projectId: project.id });
const team: Named = teams.value[0];
const members = await api.core.teams.getTeamMembersWithExtendedProperties({
  projectId: project.id,
  teamId: team.id,
});
return {
  project: project.name,
  team: team.name,
  members: members.value.map((m: any) => m.identity.displayName),
  admins: members.value.filter((m: any) => m.isTeamAdmin).length,
};"#,
        ops: &[
            "core.projects.list",
            "core.teams.getTeams",
            "core.teams.getTeamMembersWithExtendedProperties",
        ],
        ordered: true,
        flows: &[
            ("core.projects.list", "/value/0/id", "core.teams.getTeams"),
            (
                "core.projects.list",
                "/value/0/id",
                "core.teams.getTeamMembersWithExtendedProperties",
            ),
            (
                "core.teams.getTeams",
                "/value/0/id",
                "core.teams.getTeamMembersWithExtendedProperties",
            ),
        ],
        result: |r, seen| {
            let projects = answer(seen, "core.projects.list")?;
            same("project", r.get("project"), at(projects, "/value/0/name")?)?;
            let teams = answer(seen, "core.teams.getTeams")?;
            same("team", r.get("team"), at(teams, "/value/0/name")?)?;
            let members = answer(seen, "core.teams.getTeamMembersWithExtendedProperties")?;
            let want = each(members, "/value", "/identity/displayName")?;
            let got = each(r, "/members", "")?;
            (got == want && !got.is_empty())
                .then_some(())
                .ok_or(format!("members {got:?}, want {want:?}"))
        },
    },
    Chain {
        name: "repository-branches-and-commits-in-parallel",
        search: &[
            "list the git repositories of a project",
            "list the branches of a repository",
            "list the commits of a repository",
        ],
        code: r#"const project = "Fabrikam-Fiber-Git";
const repos = await api.git.repositories.list({ project });
const repo = repos.value[0];
const [branches, commits] = await Promise.all([
  api.git.refs.list({ project, repositoryId: repo.id, filter: "heads/" }),
  api.git.commits.getCommits({ project, repositoryId: repo.id, "searchCriteria.$top": 5 }),
]);
return {
  repository: repo.name,
  branches: branches.value.map((b) => b.name),
  recent: commits.value.map((c) => c.commitId),
};"#,
        ops: &[
            "git.repositories.list",
            "git.refs.list",
            "git.commits.getCommits",
        ],
        ordered: false,
        flows: &[
            ("git.repositories.list", "/value/0/id", "git.refs.list"),
            (
                "git.repositories.list",
                "/value/0/id",
                "git.commits.getCommits",
            ),
        ],
        result: |r, seen| {
            let refs = answer(seen, "git.refs.list")?;
            let want = each(refs, "/value", "/name")?;
            let got = each(r, "/branches", "")?;
            if got != want || got.is_empty() {
                return Err(format!("branches {got:?}, want {want:?}"));
            }
            let commits = answer(seen, "git.commits.getCommits")?;
            let want = each(commits, "/value", "/commitId")?;
            let got = each(r, "/recent", "")?;
            (got == want && !got.is_empty())
                .then_some(())
                .ok_or(format!("commits {got:?}, want {want:?}"))
        },
    },
];

/// Checks a chain's run: `result` is the returned value, `calls` the ids of the answer's
/// calls (in order), `seen` what the fake answered during the run.
pub fn check(
    chain: &Chain,
    result: &Json,
    calls: &[String],
    seen: &[Answered],
) -> Result<(), String> {
    let mut got: Vec<&str> = calls.iter().map(String::as_str).collect();
    let mut want = chain.ops.to_vec();
    if !chain.ordered {
        got.sort_unstable();
        want.sort_unstable();
    }
    if got != want {
        return Err(format!("calls {got:?}, want {want:?}"));
    }
    let answered: Vec<&str> = seen.iter().map(|s| s.op_id).collect();
    if answered.len() != chain.ops.len() || chain.ops.iter().any(|o| !answered.contains(o)) {
        return Err(format!(
            "the fake answered {answered:?}, want {:?}",
            chain.ops
        ));
    }
    for (from, pointer, to) in chain.flows {
        let value = at(answer(seen, from)?, pointer)?;
        let text = match value {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        let request = seen
            .iter()
            .find(|s| s.op_id == *to)
            .ok_or_else(|| format!("{to} was not called"))?;
        let target = percent_encoding::percent_decode_str(request.target).decode_utf8_lossy();
        let body = String::from_utf8_lossy(request.body);
        if !target.contains(&text) && !body.contains(&text) {
            return Err(format!(
                "{from}{pointer} = {text} did not flow into {to}: {target} {body}"
            ));
        }
    }
    (chain.result)(result, seen).map_err(|e| format!("result {}: {e}", short(result)))
}
