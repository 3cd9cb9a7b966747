//! Query vocabulary: the abbreviations and user-interface names people type, mapped to the
//! words the REST API uses for the same thing (`PR` -> `pull request`, `sprint` ->
//! `iteration`, `service connection` -> `service endpoint`).
//!
//! Expansion only adds words: the query keeps its own, so an exact match still counts.
//! The table is general Azure DevOps vocabulary, not tuned to any benchmark query.

/// `(phrase, words the API uses)`. Phrases are lower-case, matched on word boundaries;
/// longer phrases are tried first. Every entry has a query in `tests/artifact.rs`
/// (`VOCABULARY`) that must find its operation through it.
pub const TERMS: &[(&str, &str)] = &[
    ("pr", "pull request"),
    ("prs", "pull requests"),
    // Other tools' word for a pull request.
    ("merge request", "pull request"),
    ("merge requests", "pull requests"),
    ("repo", "repository"),
    ("repos", "repositories"),
    ("wi", "work item"),
    ("wis", "work items"),
    ("wiql", "work item query"),
    ("pat", "personal access token"),
    ("pats", "personal access tokens"),
    ("ace", "access control entry"),
    ("aces", "access control entries"),
    ("acl", "access control list"),
    ("acls", "access control lists"),
    ("sprint", "iteration"),
    ("sprints", "iterations"),
    ("branch", "ref"),
    ("branches", "refs"),
    ("area path", "classification node area"),
    ("area paths", "classification nodes areas"),
    ("service connection", "service endpoint"),
    ("service connections", "service endpoints"),
    ("release pipeline", "release definition"),
    ("release pipelines", "release definitions"),
    ("build pipeline", "build definition"),
    ("build pipelines", "build definitions"),
    ("classic pipeline", "build definition"),
    ("user story", "work item"),
    ("user stories", "work items"),
    ("epic", "work item"),
    // A bug is a work item of type Bug (a test result's linked bugs are their own resource,
    // and keep the word).
    ("bug", "work item"),
    ("bugs", "work items"),
    // A test case is a work item of type Test Case; test plans and suites refer to it.
    ("test case", "work item"),
    ("product backlog item", "work item"),
    ("pbi", "work item"),
    ("pbis", "work items"),
    ("kanban", "board"),
    ("security group", "graph group"),
    ("security groups", "graph groups"),
    ("org", "organization"),
    ("vm", "virtual machine"),
    ("vms", "virtual machines"),
    ("sha", "commit id"),
    // A pipeline is a build definition (or, in the newer API, a pipeline); running one
    // queues a build.
    ("pipeline", "build definition"),
    ("pipelines", "build definitions"),
    // A YAML pipeline is the Pipelines API's own resource (`pipelines.pipelines`), not a
    // classic build definition.
    ("yaml pipeline", "pipeline"),
    ("yaml pipelines", "pipelines"),
    ("pipeline run", "build queue"),
    ("pipeline runs", "builds"),
    ("team project", "project"),
    ("team projects", "projects"),
    ("git tag", "ref tags"),
    ("git tags", "refs tags"),
    // Relating two work items is a JSON-patch update of a work item's relations.
    ("work item link", "work item relations update"),
    ("work item links", "work item relations update"),
    ("iteration path", "classification node iteration"),
    ("iteration paths", "classification nodes iterations"),
    // A webhook is a service hook subscription (the Web Hooks consumer of service hooks).
    ("webhook", "service hooks subscription"),
    ("webhooks", "service hooks subscriptions"),
    ("service hook", "hooks subscription"),
    ("service hooks", "hooks subscriptions"),
    // Group membership is the graph's memberships.
    ("member of", "graph memberships"),
    ("group membership", "graph memberships"),
    ("group memberships", "graph memberships"),
    ("email", "mail"),
    // A TFVC check-in makes a changeset.
    ("check in", "changeset"),
    ("check ins", "changesets"),
    // A user's access level (Stakeholder, Basic) is their license: a user entitlement.
    ("access level", "user entitlement"),
    ("access levels", "user entitlements"),
    // Environments of YAML pipelines are their own resource, not build definitions.
    ("pipeline environment", "environment"),
    ("pipeline environments", "environments"),
    // Stages of a classic release pipeline are the release's environments.
    ("release stage", "release environment"),
    ("release stages", "release environments"),
    // Branch policies (required reviewers, build validation) are policy configurations.
    ("branch policy", "policy configuration"),
    ("branch policies", "policy configurations"),
    ("build validation", "build policy configuration"),
    // WIQL is the Work Item Query Language; a statement of it reads from `WorkItems` or
    // `WorkItemLinks` ("SELECT [System.Id] FROM WorkItems WHERE ..."), and `queryByWiql`
    // runs it.
    ("query language", "wiql"),
    ("from workitems", "query by wiql"),
    ("from workitemlinks", "query by wiql"),
    // A Kanban board's swimlanes are its rows.
    ("swimlane", "board row"),
    ("swimlanes", "board rows"),
    // A repository's default branch is a field of the repository, not a ref of its own.
    ("default branch", "repository default branch"),
    // The command line's words (`az boards`, `az devops security`) for what the REST API
    // names otherwise: a team's areas are its team field values; its default and backlog
    // iterations are team settings; a permission is an access control entry; a link
    // between work items is a relation.
    ("team area", "team field values"),
    ("team areas", "team field values"),
    ("default iteration", "team settings"),
    ("backlog iteration", "team settings"),
    ("security permission", "access control entries"),
    ("security permissions", "access control entries"),
    ("work item relation", "work item relations update"),
    ("work item relations", "work item relations update"),
    // `az boards iteration project` and `az boards area project`: the project's own tree of
    // iterations and areas, its classification nodes (a team's are team settings).
    ("project iteration", "classification node iteration"),
    ("project iterations", "classification nodes iterations"),
    ("project area", "classification node area"),
    ("project areas", "classification nodes areas"),
    // A classic release's stages are its environments in the REST API
    // (`ReleaseEnvironment`); a YAML run's stages keep the word (`build.stages`).
    ("stage", "environment"),
    ("stages", "environments"),
    // A work item's state is one of its fields (`System.State`), set by an update of the
    // work item; a work item type's states are the process's.
    ("work item state", "work item"),
    // A test run's pass rate (its pass percentage) is counted from its statistics: the
    // results by outcome.
    ("pass rate", "run statistics"),
    ("pass percentage", "run statistics"),
    // Reacting to a comment (like, heart, hooray...) adds a reaction to it.
    ("react", "reaction"),
    // Code Search, Work Item Search and Wiki Search are the product's search features; the
    // REST API fetches their search results (`search.codeSearchResults`). Only with the
    // object named: "search" alone is any lookup's verb ("search for a user by name").
    ("code search", "code search results"),
    ("search code", "code search results"),
    ("work item search", "work item search results"),
    ("search work items", "work item search results"),
    ("wiki search", "wiki search results"),
    ("search wiki", "wiki search results"),
];

/// Longest phrase in [`TERMS`], in words.
pub const MAX_WORDS: usize = 3;

/// The API's words for a phrase of the table (lower-case, words separated by one space).
pub fn api(phrase: &str) -> Option<&'static str> {
    TERMS
        .iter()
        .find(|(p, _)| *p == phrase)
        .map(|(_, api)| *api)
}

/// The longest phrase of the table that starts at `words[i]` (lower-case words): its length
/// in words and its API words.
pub fn phrase_at<S: AsRef<str>>(words: &[S], i: usize) -> Option<(usize, &'static str)> {
    (1..=MAX_WORDS.min(words.len().saturating_sub(i)))
        .rev()
        .find_map(|n| {
            let phrase: Vec<&str> = words[i..i + n].iter().map(AsRef::as_ref).collect();
            api(&phrase.join(" ")).map(|api| (n, api))
        })
}

/// A text's words, lower-case: punctuation separates them, and a possessive's `s` is not a
/// word of its own ("a team's area paths" holds the phrase "team area" of [`TERMS`]).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter(|w| {
            // `s` alone after a word and an apostrophe ("team's", "team\u{2019}s").
            let at = w.as_ptr() as usize - text.as_ptr() as usize;
            let mut before = text[..at].chars().rev();
            !(w.eq_ignore_ascii_case("s")
                && matches!(before.next(), Some('\'' | '\u{2019}'))
                && before.next().is_some_and(char::is_alphanumeric))
        })
        .map(str::to_lowercase)
        .collect()
}

/// The query followed by the API words its known phrases stand for (phrases are matched
/// on its [`words`]).
pub fn expand(query: &str) -> String {
    let words = words(query);
    let mut out = query.to_string();
    let mut i = 0;
    while i < words.len() {
        match phrase_at(&words, i) {
            Some((n, api)) => {
                out.push(' ');
                out.push_str(api);
                i += n;
            }
            None => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_and_ui_names_gain_the_api_words() {
        assert_eq!(expand("list open PRs"), "list open PRs pull requests");
        assert_eq!(
            expand("area paths of a repo"),
            "area paths of a repo classification nodes areas repository"
        );
        assert_eq!(
            expand("Service Connection"),
            "Service Connection service endpoint"
        );
        // Words inside other words are not phrases.
        assert_eq!(expand("approval prompt"), "approval prompt");
        assert_eq!(expand(""), "");
    }

    #[test]
    fn a_possessive_s_is_not_a_word() {
        assert_eq!(words("a team's area paths"), ["a", "team", "area", "paths"]);
        assert_eq!(words("Team\u{2019}s AREAS"), ["team", "areas"]);
        // Only after a word, and only a lone `s`.
        assert_eq!(words("'s x's 'sa s"), ["s", "x", "sa", "s"]);
        assert_eq!(words("it's"), ["it"]);
        assert_eq!(words("  ,, "), Vec::<String>::new());
    }

    #[test]
    fn phrases_are_lower_case_and_fit_the_window() {
        for (phrase, api) in TERMS {
            assert_eq!(*phrase, phrase.to_lowercase());
            assert!(phrase.split(' ').count() <= MAX_WORDS, "{phrase}");
            assert!(!api.is_empty());
        }
    }
}
