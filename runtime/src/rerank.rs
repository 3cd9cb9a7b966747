//! Structure-aware re-rank of the top candidates: the query's action (list, get, create,
//! update, delete, run) and object (the resource noun phrase) against each operation's HTTP
//! method, path (its resource, its parents, an item or a collection) and summary.
//!
//! Word overlap alone ranks siblings together: "list the pull requests of a repository"
//! shares every word with the pull request's iterations, statuses and threads, whose paths
//! hold `pullRequests` too. The path tells them apart: the resource an operation is about
//! is its last literal segment, and an operation whose last segment the query names gains.

use crate::Operation;
use crate::glossary::words;

/// How many of a long query's first words may name an operation's resource: a long
/// description names its resource first and sub-resources later ("Create a pull request
/// ... with a title, description and reviewers"). Chosen from 4, 5, 6, 7, 8, 10, 12, 16
/// and all on `benches/queries.jsonl` and `benches/tuning-long.jsonl` (tuning-long hybrid
/// MRR@10 0.748 with all words, 0.795 with 6; queries 0.785 either way). Counting only
/// content words (4, 5, 6, 8 of them) did less well on both.
const NAMING: usize = 6;
/// A query of more than this many words is long; a shorter one names resources with any
/// of its words ("get the default branch of a repository"). 8, 10 and 12 measured within
/// a query of each other.
const LONG: usize = 10;

/// How many of the best candidates are re-ranked.
pub const DEPTH: usize = 30;

/// Weights, tuned by a grid search on `benches/queries.jsonl` only (never on the held-out
/// file), in every mode. A candidate's base score falls by 1/[`DEPTH`] per rank, so 0.1 is
/// worth three ranks. (A penalty for sub-resources whose parent the query names, a bonus for
/// a summary equal to the query and a bonus for the share of query words in the summary
/// were tried and left out: each lost more queries than it won.) Swept again one at a
/// time on the four tuning files of `benches/` (queries, tuning-long, tuning-terse,
/// tuning-described): none moved their mean hybrid MRR@10 by more than 0.0015.
const W_HEAD: f32 = 0.10;
/// The operation's resource is the query's object head itself, not only a word of the query
/// ("PR comment threads": `threads`, not their `comments`). Chosen from 0, 0.05, 0.1 and 0.2
/// on `benches/queries.jsonl` and `benches/tuning-long.jsonl`, and again from 0.05, 0.1,
/// 0.15 and 0.2 once compounds named the object (hybrid MRR@10 0.784, 0.790, 0.797, 0.794
/// on queries; 0.779, 0.798, 0.799, 0.804 on tuning-long).
const W_OBJECT: f32 = 0.15;
const W_METHOD: f32 = 0.05;
const W_METHOD_MISMATCH: f32 = -0.10;
/// A read's shape against the path's end; an update's or a deletion's too, where a plural
/// object with no key names the batch on the collection ("update secure files":
/// `PATCH securefiles`, not `securefiles/{id}`). A creation posts one item to the collection
/// either way, so its path says nothing.
const W_SHAPE: f32 = 0.10;
/// A query for several things, no key given: the read of one item yields ("service hook
/// subscriptions": the list, not `subscriptions/{subscriptionId}`). A penalty for every
/// wrong shape lost more queries than it won (before the bare plural read as a list).
const W_SHAPE_MISMATCH: f32 = -0.05;
/// A collection read filtered by keys the caller gives (`getSecureFilesByIds`,
/// `getAgentQueuesByNames`: the same path as the plain list) yields to the plain list when
/// the query gives no ids or names; so does a name keyed by another key than the one the
/// query looks up by (`getPageById` for "a wiki page by its path"), while an operation that
/// takes the query's key as a query parameter reads one item (`pages?path=`):
/// tuning-described hybrid MRR@10 0.837 -> 0.847, queries 0.831 -> 0.833, the others equal;
/// held-out hybrid 0.707 -> 0.710.
const W_LOOKUP: f32 = -0.05;
/// An operation of a version older than the catalog's newest (an area left behind, such
/// as `processDefinitions` 4.1 beside `processes` 7.2) yields to current ones; so does an
/// on-premises one (`azure-devops-server-7.1`) in a catalog that holds numbered versions:
/// its spec (`feed-onprem.json`) gives its operations ids of their own, twins of the
/// cloud's (`artifacts.artifactDetails.getPackage` beside
/// `artifacts.feed.artifactDetails.getPackage`), and a query is the cloud's unless its
/// version filter says otherwise.
const W_OLD: f32 = -0.2;
/// The query is an operation's summary, word for word once articles, case, punctuation and
/// plurals are set aside: that operation wins ("An exact or near-exact summary match").
/// Its last word keeps its number: "update builds" is not "Updates a build." (the 402
/// operations whose name's words no other shares, searched by them, hybrid: first 0.766
/// -> 0.776; the three benchmark files equal in every mode).
const W_SUMMARY: f32 = 0.5;
/// ... and word for word as written, plurals and articles included: of two siblings whose
/// summaries differ in a plural or an article ("Set role assignment on a resource" / "Set
/// role assignments on a resource"), the one the query quotes; not an old version's
/// operation, which [`W_OLD`] keeps behind a current one that matches with plurals and
/// articles aside ("Create a test suite." is an old `test` operation's summary word for
/// word, `testPlan.testSuites.create`'s without its article). Each
/// of the 953 operations of the latest catalog whose summary no other shares, searched by
/// it (hybrid): first 0.974 -> 0.983 (0.980 with 0.05); the three benchmark files equal in
/// every mode.
const W_VERBATIM: f32 = 0.2;
/// The query is the operation's name in words ("destroy work item": `destroyWorkItem`,
/// "get work items batch"), as [`W_SUMMARY`] reads a summary: what an agent that knows the
/// SDK's method names types. Less than a summary's, a name being terser and more often
/// met by chance; and not for an old version's operation, which W_OLD keeps behind. The
/// catalog's 402 names that no other operation shares, searched by their
/// words (`opcat bench --from-catalog names`), hybrid first 0.776 -> 0.995 (0.978 with 0.2,
/// 0.998 with 0.5: that set is the rule's own); queries, tuning-long and held-out hybrid
/// equal (held-out dense one query lower).
const W_NAME: f32 = 0.3;
/// The operation's name opens with a verb of another kind of action than the query's (a
/// read, a creation or run, an update, a deletion), and its summary does not say the
/// query's: "Create a variable group" is not `shareVariableGroup` (whose spec summary is
/// "Add a variable group."), "Lists the agents" not `agents.add`; `updateRefs` still creates
/// a branch ("Creating, updating, or deleting refs"). Chosen from 0.05, 0.1, 0.15 and 0.2;
/// at 0.1 hybrid MRR@10: queries 0.807 -> 0.814, tuning-long 0.870 -> 0.873, tuning-terse
/// 0.812 -> 0.825, tuning-described 0.798 -> 0.826 (R@5 0.970 -> 0.960), bm25 and dense
/// up on every file (tuning-terse bm25 0.804 -> 0.842). Held-out, the veto: hybrid 0.697
/// equal, bm25 0.639 -> 0.652, dense 0.633 -> 0.639.
const W_NAME_VERB: f32 = -0.1;
/// The operation's name ends (its keys aside) with the query's object in the other number:
/// "Add a reviewer to a PR" is not `createPullRequestReviewers`, "Show a variable group" not
/// `getVariableGroupsById`, "Add tags to a build" not `addBuildTag`. A penalty only: a
/// bonus for the same number (0.05, 0.1) lifted siblings with long names over the plain
/// `list` or `get` of the resource, whose name has no noun. Chosen from 0.05 and 0.1 on the
/// four tuning files: 0.05 moved hybrid MRR@10 on tuning-terse 0.792 -> 0.812 and
/// tuning-described 0.755 -> 0.761, queries and tuning-long equal, no figure of any mode
/// down (held-out, the veto: hybrid equal, dense 0.586 -> 0.582).
const W_NUMBER: f32 = -0.05;
/// A query word and a path segment sharing this many leading letters name the same thing
/// ("changed" / "changes", "repo" / "repositories").
const PREFIX: usize = 4;

/// The structural features, in their order in [`features`] and [`FEATURES`].
#[derive(Debug, Clone, Copy)]
enum Feature {
    Old,
    Summary,
    Verbatim,
    Name,
    NameVerb,
    Number,
    Head,
    Object,
    Lookup,
    Method,
    MethodMismatch,
    Shape,
    ShapeMismatch,
}

/// Each feature's name (for `opcat bench --features`) and weight, in [`Feature`]'s order.
pub const FEATURES: [(&str, f32); 13] = [
    ("old", W_OLD),
    ("summary", W_SUMMARY),
    ("verbatim", W_VERBATIM),
    ("name", W_NAME),
    ("name_verb", W_NAME_VERB),
    ("number", W_NUMBER),
    ("head", W_HEAD),
    ("object", W_OBJECT),
    ("lookup", W_LOOKUP),
    ("method", W_METHOD),
    ("method_mismatch", W_METHOD_MISMATCH),
    ("shape", W_SHAPE),
    ("shape_mismatch", W_SHAPE_MISMATCH),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    List,
    Get,
    Create,
    Update,
    Delete,
    Run,
}

/// Whether the query asks for one item or for a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Item,
    Collection,
}

/// What the re-rank reads from a query.
#[derive(Debug)]
pub struct QueryShape {
    /// Its words, lower-case, that may name an operation's resource: all of them, or the
    /// first [`NAMING`] of a [`LONG`] query.
    words: Vec<String>,
    /// Its content words ([`content`]), to compare with a summary's.
    content: Vec<String>,
    /// All its words as written (lower-case), to tell a summary's own wording from a
    /// sibling's that differs in a plural or an article.
    verbatim: Vec<String>,
    action: Option<Action>,
    shape: Option<Shape>,
    /// The object's head noun, singular ("comment threads" -> `thread`).
    head: Option<String>,
    /// Whether the head is written in the plural.
    plural: bool,
    /// Another name of the object's segment: the glossary's API words for the phrase ending
    /// the object ("user stories" -> `workitem`), or else the object's last two words, run
    /// together and singular ("pull requests" -> `pullrequest`).
    compound: Option<String>,
    /// The word the query looks its object up by ("by path": `path`), singular.
    by: Option<String>,
    /// The query gives ids or names ("by id", "by their names", "pullRequestId 22").
    keyed: bool,
}

/// Words that carry no meaning of their own besides the [`PREPOSITION`]s: articles,
/// pronouns, conjunctions and the like. [`is_stop`] reads both lists.
const STOP: &[&str] = &[
    "a",
    "an",
    "the",
    "its",
    "their",
    "my",
    "all",
    "and",
    "or",
    "as",
    "is",
    "are",
    "this",
    "that",
    "given",
    "specified",
    "specific",
    "one",
    "some",
    "me",
    "i",
    "it",
    "be",
];

/// Prepositions: a noun phrase's link to the next one.
const PREPOSITION: &[&str] = &[
    "of", "on", "in", "for", "to", "by", "from", "with", "at", "across", "under", "over", "within",
    "per", "via", "since", "through", "between", "into",
];

/// A stop word: one of [`STOP`] or a [`PREPOSITION`].
fn is_stop(w: &str) -> bool {
    STOP.contains(&w) || PREPOSITION.contains(&w)
}

/// Words that open a question. A question with no verb of its own asks to read: "what
/// states can a user story be in", "is the build finished", "which agents are online".
const QUESTION: &[&str] = &[
    "what", "which", "who", "whose", "how", "when", "where", "is", "are", "does", "do", "did",
    "has", "have", "can",
];

/// A question's other auxiliaries. Neither they nor the [`QUESTION`] words are ever its
/// object ("what fields does a work item type have" is about `fields`).
const AUXILIARY: &[&str] = &["many", "much", "was", "were", "there", "exist", "exists"];

fn verb(word: &str) -> Option<Action> {
    Some(match word {
        "list" | "lists" | "enumerate" | "browse" => Action::List,
        "get" | "gets" | "show" | "shows" | "retrieve" | "retrieves" | "fetch" | "read"
        | "view" | "display" | "describe" | "details" | "inspect" | "return" => Action::Get,
        "create" | "creates" | "add" | "adds" | "new" | "make" | "register" | "upload"
        | "submit" | "post" | "publish" | "publishes" | "import" | "install" | "attach"
        | "invite" | "put" | "open" | "connect" | "push" | "fork"
        // A reply, a comment, a label, a tag or a reaction is an item added to its
        // collection.
        | "reply" | "comment" | "label" | "tag" | "react" => {
            Action::Create
        }
        "update" | "updates" | "set" | "sets" | "change" | "edit" | "modify" | "rename"
        | "patch" | "replace" | "move" | "assign" | "reorder"
        // A change of state is an update of the resource in this API (a pull request is
        // abandoned or completed by a PATCH of its status, a build cancelled likewise, a
        // reviewer's approval is a PUT of the vote).
        | "cancel" | "abandon" | "complete" | "approve" | "reject" | "lock" | "unlock"
        | "mark" | "close" | "reopen" | "pause" | "resume" | "enable" | "disable" | "stop"
        | "vote" | "restore" | "undelete" | "grant" | "deny" | "share" | "authorize"
        // A pull request is merged by completing it.
        | "merge"
        // A package version is unlisted, relisted or deprecated by an update of its state.
        | "unlist" | "relist" | "deprecate"
        // A release is deployed to a stage by a PATCH of its environment's status.
        | "deploy" | "deploys" | "redeploy"
        // Relating two work items is an update of one's relations.
        | "link" | "unlink" | "relate" => Action::Update,
        "delete" | "deletes" | "remove" | "removes" | "drop" | "destroy" | "unregister"
        | "purge" | "revoke" | "uninstall" | "unpublish" => Action::Delete,
        "run" | "runs" | "queue" | "queues" | "trigger" | "execute" | "start" | "launch"
        | "rerun" | "retry" => Action::Run,
        _ => return None,
    })
}

/// The action of an operation name's first word: a [`verb`], or a query, which reads
/// (`checkConfigurations.query`, `queryByWiql`): in a query's words "query" is more often
/// the thing ("run a saved query"), and running a query reads too.
fn name_verb(word: &str) -> Option<Action> {
    verb(word).or((word == "query").then_some(Action::List))
}

/// The action of the query's word at `i`: a first word may be a verb in the third person,
/// as a tool's description opens ("Cancels a build", "Approves or rejects", "Modifies an
/// existing pull request"). Further in, an inflected verb is more often a noun ("get
/// changes of a commit"), so only the forms [`verb`] lists count there.
fn verb_at(raw: &[String], i: usize) -> Option<Action> {
    let word = raw[i].as_str();
    verb(word).or_else(|| {
        // A plural noun opening a bare phrase is followed by its preposition ("labels on a
        // PR", "tags of a build"); a verb by its object.
        let next = raw.get(i + 1)?;
        if i > 0 || PREPOSITION.contains(&next.as_str()) {
            return None;
        }
        let base = word.strip_suffix('s')?;
        verb(base)
            .or_else(|| verb(base.strip_suffix('e')?))
            .or_else(|| verb(&format!("{}y", base.strip_suffix("ie")?)))
    })
}

/// Whether the verb word `raw[i]` is a noun of the phrase: after a content word and not
/// before an article ("test runs", "agent queues of a project", "GitRef list filtered by
/// prefix"; but "bulk delete several work items"), or first and before "of" ("runs of a
/// pipeline"), or the first word of a glossary phrase ("merge requests"). "details" stays a
/// request to read ("package version details").
fn is_noun_here(raw: &[String], i: usize) -> bool {
    const DETERMINER: &[&str] = &[
        "a", "an", "the", "several", "all", "every", "each", "my", "its", "their", "some", "this",
        "these", "those",
    ];
    if raw[i] == "details" {
        return false;
    }
    // A phrase of the glossary is a noun phrase: "merge requests created by me".
    if crate::glossary::phrase_at(raw, i).is_some_and(|(n, _)| n >= 2) {
        return true;
    }
    let Some(before) = i.checked_sub(1).map(|b| raw[b].as_str()) else {
        // "runs of a pipeline", "updates of a work item".
        return raw.get(1).is_some_and(|next| next == "of");
    };
    !is_stop(before)
        && !QUESTION.contains(&before)
        && !AUXILIARY.contains(&before)
        && !before.ends_with("ly")
        && verb(before).is_none()
        && raw
            .get(i + 1)
            .is_none_or(|next| !DETERMINER.contains(&next.as_str()))
}

/// `repositories` -> `repository`, `pullrequests` -> `pullrequest`, `status` stays.
/// Lower-case words in, as the index and the compiler's data-flow edges compare them.
pub fn singular(word: &str) -> String {
    let w = word;
    if w.len() > 4 && w.ends_with("ies") {
        format!("{}y", &w[..w.len() - 3])
    } else if w.len() > 4
        && ["sses", "uses", "xes", "ches", "shes"]
            .iter()
            .any(|e| w.ends_with(e))
    {
        w[..w.len() - 2].to_string()
    } else if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        w[..w.len() - 1].to_string()
    } else {
        w.to_string()
    }
}

/// The API's word for a product word of the glossary ("branch" -> "ref", "pr" ->
/// "request"): the last word of its expansion.
fn api_word(word: &str) -> String {
    crate::glossary::api(word)
        .and_then(|api| api.split(' ').next_back())
        .unwrap_or(word)
        .to_string()
}

fn is_plural(word: &str) -> bool {
    singular(word) != word
}

/// The words that carry a text's meaning, in order: lower-case, singular, without the
/// articles and other words of [`STOP`]; a run of [`PREPOSITION`]s between two of them is
/// one mark (`|`).
fn content(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words {
        if PREPOSITION.contains(&w.as_str()) {
            // Which preposition does not matter ("logs of a build", "logs for a build"),
            // that there is one does: "an agent to a pool" is not "an agent pool".
            if out.last().is_some_and(|l| l != "|") {
                out.push("|".to_string());
            }
        } else if !STOP.contains(&w.as_str()) {
            out.push(singular(w));
        }
    }
    out
}

/// The last word of `words` that is not a stop word, as written (its number kept).
fn last_content(words: &[String]) -> Option<&String> {
    words.iter().rfind(|w| !is_stop(w))
}

/// `words` say what the query says: the same content words ([`content`]), the last of them
/// in the same number.
fn says_query(q: &QueryShape, words: &[String]) -> bool {
    // The last word first: it is cheap, and it sets most candidates aside.
    q.content.len() >= 2
        && last_content(&q.verbatim) == last_content(words)
        && q.content == content(words)
}

impl QueryShape {
    pub fn of(query: &str) -> QueryShape {
        let raw = words(query);
        // The verb: a verb word among the first four that is not a noun of the object.
        // A question for a person or a thing reads whatever its verb: "who can publish to a
        // feed", "which builds failed".
        let wh = raw
            .first()
            .is_some_and(|w| matches!(w.as_str(), "who" | "whose" | "which" | "what"));
        let at = (0..raw.len().min(4))
            .find(|&i| !wh && verb_at(&raw, i).is_some() && !is_noun_here(&raw, i));
        let stated = at.and_then(|i| verb_at(&raw, i));
        // A question with no verb of its own: the action is read from the question.
        let question =
            stated.is_none() && raw.first().is_some_and(|w| QUESTION.contains(&w.as_str()));
        let counts = raw.len() > 1 && raw[0] == "how" && (raw[1] == "many" || raw[1] == "much");
        let action = stated.or(match (question, counts) {
            (true, true) => Some(Action::List),
            (true, false) => Some(Action::Get),
            _ => None,
        });
        let plain = |i: usize| {
            let w = raw[i].as_str();
            !is_stop(w)
                && !QUESTION.contains(&w)
                && !AUXILIARY.contains(&w)
                && (verb_at(&raw, i).is_none() || is_noun_here(&raw, i))
        };
        // The object: the first content word after the verb (or from the start).
        let start = at.map_or(0, |i| i + 1);
        let object = (start..raw.len()).find(|&i| plain(i));
        // "by id", "pullRequestId 22": one item; "by their ids": several.
        let by_ids = raw.iter().any(|w| w == "ids");
        let by_id = !by_ids && raw.iter().any(|w| is_key(w));
        // The object's head: the last word of the first run of content words ("pull
        // requests" -> "requests").
        let head_at = object.map(|from| {
            (from..raw.len())
                .take_while(|&i| plain(i))
                .last()
                .unwrap_or(from)
        });
        let head = head_at.map(|i| raw[i].clone());
        // The API's words for a glossary phrase ending the object ("user story" -> "work
        // item"), run together: `workitems` is the object's segment, and
        // `workitemsearchresults` that of "search work items".
        let compound = head_at.and_then(|end| {
            (0..crate::glossary::MAX_WORDS.min(end + 1))
                .rev()
                .find_map(|back| crate::glossary::api(&raw[end - back..=end].join(" ")))
                .map(|api| singular(&api.replace(' ', "")))
        });
        // Or the object's own last two words run together ("pull request" -> `pullrequest`).
        let compound = compound.or_else(|| {
            let (from, end) = (object?, head_at?);
            (end > from && plain(end - 1))
                .then(|| singular(&format!("{}{}", raw[end - 1], raw[end])))
        });
        // A bare noun phrase naming several things lists them ("agents in a pool", "PR
        // comment threads").
        let action = action.or(match head.as_deref() {
            Some(h) if at.is_none() && !question && is_plural(h) => Some(Action::List),
            _ => None,
        });
        // A plural object has no one key: a key is its parent's ("comments on work item
        // 77", "build 123 artifacts") or a count ("the 3 newest builds").
        let parents_key = head_at.is_some_and(|h| is_plural(&raw[h]));
        // A stated list is of a collection: a key it gives is its parent's ("Lists the
        // agents registered in an agent pool ... Provide the pool ID"). Tool descriptions
        // (`benches/tuning-described.jsonl`) hybrid MRR@10 0.784 -> 0.798, bm25 0.731 ->
        // 0.750; the other tuning files equal in every mode.
        let shape = if stated == Some(Action::List) {
            Some(Shape::Collection)
        } else if by_id && !parents_key {
            Some(Shape::Item)
        } else if by_ids {
            Some(Shape::Collection)
        } else {
            match (action, head.as_deref()) {
                (Some(Action::List), _) => Some(Shape::Collection),
                (_, Some(h)) if is_plural(h) => Some(Shape::Collection),
                // A question's last content word may be its verb ("which files changed"):
                // only a plural says what it asks for.
                (Some(Action::Get), Some(_)) if !question => Some(Shape::Item),
                _ => None,
            }
        };
        // Keys named past a description's first sentence are how it is called ("Provide
        // the pool ID", "filter by name"), not what it asks for. tuning-long hybrid MRR@10
        // 0.873 -> 0.889, tuning-described 0.830 -> 0.835; queries and tuning-terse equal.
        let first = words(first_sentence(query));
        let keyed = first
            .iter()
            .any(|w| w == "ids" || is_key(w) || matches!(w.as_str(), "name" | "names" | "named"));
        // What the first sentence looks the object up by ("by path", "by its name").
        let by = first
            .iter()
            .position(|w| w == "by")
            .and_then(|i| {
                first[i + 1..]
                    .iter()
                    .find(|w| !matches!(w.as_str(), "its" | "their" | "the" | "a" | "an"))
            })
            .map(|w| singular(w));
        QueryShape {
            keyed,
            content: content(&raw),
            verbatim: raw.clone(),
            words: {
                let mut words = raw;
                if words.len() > LONG {
                    words.truncate(NAMING);
                }
                words
            },
            action,
            shape,
            // In the API's word: "PRs" are pull requests, plural.
            plural: head.as_deref().is_some_and(|h| is_plural(&api_word(h))),
            head: head
                .filter(|h| h.len() > 2)
                .map(|h| singular(&api_word(&h))),
            compound,
            by,
        }
    }

    /// Whether a path segment is the query's object itself, its head noun ("PR comment
    /// threads" is about `threads`, not the threads' `comments`, though it names both).
    fn is_object(&self, segment: &str) -> bool {
        let segment = singular(&segment.to_lowercase());
        self.head.as_ref().is_some_and(|h| segment == *h)
            || self.compound.as_ref().is_some_and(|c| segment == *c)
    }

    /// A path segment (`pullrequests`, `workitems`, `refs`) named by the query: as a word,
    /// as two or three consecutive words run together, singular or plural, or by a word
    /// sharing its first [`PREFIX`] letters.
    fn names(&self, segment: &str) -> bool {
        let seg = singular(&segment.to_lowercase());
        if seg.len() < 2 {
            return false;
        }
        let prefix = |w: &str| {
            w.len() >= PREFIX
                && seg.len() >= PREFIX
                && w.as_bytes()[..PREFIX] == seg.as_bytes()[..PREFIX]
        };
        (0..self.words.len()).any(|i| {
            let mut joined = String::new();
            self.words[i..].iter().take(3).any(|w| {
                joined.push_str(w);
                joined == seg || singular(&joined) == seg
            })
        }) || self.words.iter().any(|w| prefix(w))
    }
}

/// The kind of an action, as a name's verb and a query's are compared: a read (list or
/// get), a creation or a run (`queue`, `create`), an update, a deletion.
fn kind(action: Action) -> u8 {
    match action {
        Action::List | Action::Get => 0,
        Action::Create | Action::Run => 1,
        Action::Update => 2,
        Action::Delete => 3,
    }
}

/// A query's first sentence: up to a `.`, `?` or `!` followed by a space and a capital.
pub(crate) fn first_sentence(query: &str) -> &str {
    query
        .char_indices()
        .find(|&(i, c)| {
            matches!(c, '.' | '?' | '!')
                && query[i + 1..].starts_with(' ')
                && query[i + 1..]
                    .trim_start()
                    .starts_with(|n: char| n.is_uppercase())
        })
        .map_or(query, |(i, _)| &query[..i])
}

/// Whether a summary names `action` with a verb of its own ("Adds/Removes tags",
/// "Creating, updating, or deleting refs"). Only creations, updates and deletions: reads
/// and runs are told by the method.
fn says(summary: &str, action: Action) -> bool {
    let wanted: &[&str] = match action {
        Action::Create => &["create", "creates", "creating", "add", "adds", "adding"],
        Action::Update => &["update", "updates", "updating"],
        Action::Delete => &[
            "delete", "deletes", "deleting", "remove", "removes", "removing",
        ],
        Action::List | Action::Get | Action::Run => return false,
    };
    // Compared in place: this runs on every re-ranked candidate of every search.
    summary
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| wanted.iter().any(|v| w.eq_ignore_ascii_case(v)))
}

/// A word that gives one item's key: "id", "pullRequestId", a number.
fn is_key(w: &str) -> bool {
    w == "id" || (w.len() > 3 && w.ends_with("id")) || w.bytes().all(|b| b.is_ascii_digit())
}

/// The literal segments of a path after `_apis` (or all of them), lower-case; and whether
/// the path ends with a parameter (an item) rather than a literal (a collection). A segment
/// holding a parameter (`${type}`) is a parameter.
fn segments(path: &str) -> (Vec<String>, bool) {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let from = parts
        .iter()
        .position(|s| s.eq_ignore_ascii_case("_apis"))
        .map_or(0, |i| i + 1);
    let literal: Vec<String> = parts[from.min(parts.len())..]
        .iter()
        .filter(|s| !s.contains('{'))
        .map(|s| s.to_lowercase())
        .collect();
    let item = parts.last().is_some_and(|s| s.contains('{'));
    (literal, item)
}

/// A version folder as numbers (`7.2` -> [7, 2]); on-premises folders (`azure-devops-server-2020`)
/// and others without a leading number give nothing.
pub fn version_key(v: &str) -> Vec<u32> {
    if !v.starts_with(|c: char| c.is_ascii_digit()) {
        return Vec::new();
    }
    v.split('.').map_while(|n| n.parse().ok()).collect()
}

/// A version's place among others: cloud (numbered) versions above on-premises ones, then
/// by number ([`version_key`]).
pub type VersionRank = (bool, Vec<u32>);

/// The [`VersionRank`] of a version folder.
pub fn version_rank(v: &str) -> VersionRank {
    let key = version_key(v);
    (!key.is_empty(), key)
}

/// How well `op` fits the query's structure: its [`features`] weighted as [`FEATURES`]
/// says, 0 for no signal. `newest` is the catalog's newest version ([`version_rank`]).
pub fn fit(q: &QueryShape, op: &Operation<'_>, newest: &VersionRank) -> f32 {
    features(q, op, newest)
        .iter()
        .zip(FEATURES)
        .map(|(f, (_, w))| f * w)
        .sum()
}

/// The HTTP method that does `action`.
fn method_fits(action: Action, method: &str) -> bool {
    match action {
        Action::List | Action::Get => method == "GET",
        Action::Create => method == "POST" || method == "PUT",
        Action::Update => method == "PATCH" || method == "PUT",
        Action::Delete => method == "DELETE",
        Action::Run => method == "POST",
    }
}

/// What tells apart operations whose summaries are the same text ([`rerank`]): `op`'s
/// summary, and whether its method does the query's action by itself ("Create a variable
/// group": `POST variablegroups` and `PATCH variablegroups` are both "Add a variable
/// group.").
pub fn twin<'a>(q: &QueryShape, op: &Operation<'a>) -> Option<(&'a str, bool)> {
    let summary = op.summary();
    (!summary.is_empty()).then(|| {
        (
            summary,
            q.action.is_some_and(|a| method_fits(a, op.method())),
        )
    })
}

/// Which structural signals `op` shows for the query, one 0 or 1 per entry of [`FEATURES`].
pub fn features(q: &QueryShape, op: &Operation<'_>, newest: &VersionRank) -> [f32; FEATURES.len()] {
    let mut f = [0.0; FEATURES.len()];
    let mut set = |feature: Feature| f[feature as usize] = 1.0;
    let old = version_rank(op.version()) < *newest;
    if old {
        set(Feature::Old);
    }
    let summary = words(op.summary());
    if says_query(q, &summary) {
        set(Feature::Summary);
        if !old && summary == q.verbatim {
            set(Feature::Verbatim);
        }
    }
    let name = op.id().rsplit('.').next().unwrap_or_default();
    let name_words = crate::dense::text_words(name);
    if !old && says_query(q, &name_words) {
        set(Feature::Name);
    }
    // Whether the summary says the query's action, which both the name's verb and the
    // method yield to.
    let summary_says = q.action.is_some_and(|a| says(op.summary(), a));
    if let (Some(action), Some(named)) = (q.action, name_words.first().and_then(|w| name_verb(w)))
        && kind(action) != kind(named)
        && !(named == Action::List && action == Action::Run)
        && !summary_says
    {
        set(Feature::NameVerb);
    }
    // The name's last noun before its keys ("getVariableGroupsById": `groups`).
    let noun = name_words
        .iter()
        .take_while(|w| *w != "by")
        .last()
        .filter(|_| name_words.len() > 1);
    if let (Some(noun), Some(head)) = (noun, &q.head)
        && singular(noun) == *head
        && is_plural(noun) != q.plural
    {
        set(Feature::Number);
    }
    // A name that says its key (`getPageById`) against a query that looks up by another
    // ("by path"); and an operation that takes that key as a query parameter reads one
    // item (`pages?path=`).
    let (literal, mut item) = segments(op.path());
    if let Some(by) = &q.by {
        let mut name_key = name_words
            .iter()
            .skip_while(|w| *w != "by")
            .skip(1)
            .peekable();
        if name_key.peek().is_some() && name_key.all(|w| singular(w) != *by) {
            set(Feature::Lookup);
        }
        // When the query asks for one thing: in a list, the parameter filters ("list
        // service connections filtered by type").
        item = item
            || q.shape == Some(Shape::Item)
                && op.core().params.iter().any(|p| {
                    matches!(p.location, crate::format::ArchivedLocation::Query)
                        && p.name.as_str().eq_ignore_ascii_case(by)
                });
    }
    if literal.last().is_some_and(|head| q.names(head)) {
        set(Feature::Head);
    }
    if literal.last().is_some_and(|seg| q.is_object(seg)) {
        set(Feature::Object);
    }
    let method = op.method();
    if method == "GET"
        && !item
        && !q.keyed
        && ["ById", "ByIds", "ByName", "ByNames"]
            .iter()
            .any(|k| name.ends_with(k))
    {
        set(Feature::Lookup);
    }
    if let Some(action) = q.action {
        // An operation whose summary says it does the action fits it whatever its method:
        // "Creating, updating, or deleting refs (branches)" is a POST that deletes a branch.
        let fits = method_fits(action, method) || summary_says;
        let wrong = match action {
            // Some reads are POSTs (queries, batches); a PUT replaces.
            Action::List | Action::Get => matches!(method, "DELETE" | "PATCH" | "PUT"),
            Action::Create | Action::Run => method == "GET" || method == "DELETE",
            Action::Update => method == "GET" || method == "DELETE",
            Action::Delete => method != "DELETE",
        };
        if fits {
            set(Feature::Method);
        } else if wrong {
            set(Feature::MethodMismatch);
        }
    }
    if method == "GET"
        && let Some(shape) = q.shape
    {
        if shape == if item { Shape::Item } else { Shape::Collection } {
            set(Feature::Shape);
        } else if shape == Shape::Collection && !q.keyed {
            set(Feature::ShapeMismatch);
        }
    } else if matches!(q.action, Some(Action::Update | Action::Delete))
        && method != "GET"
        && q.shape == Some(if item { Shape::Item } else { Shape::Collection })
    {
        set(Feature::Shape);
    }
    f
}

/// Re-ranks the first [`DEPTH`] of `ranked` (best first): each keeps a score falling
/// linearly with its rank, plus its structural fit; the rest keep their order behind.
/// Operations with one summary ([`twin`]) trade places between them first: the rankings
/// cannot tell their texts apart (`benches/tuning-long.jsonl` hybrid MRR@10 0.910 -> 0.938,
/// tuning-terse 0.872 -> 0.878, tuning-described 0.832 -> 0.837; no tuning query down;
/// held-out hybrid equal, bm25 one query from rank 1 to 2).
///
/// Scores equal in exact arithmetic (a fit 0.1 higher three ranks lower) are equal here
/// too: they are compared in steps of [`TIE`], far coarser than f32's rounding and far
/// finer than any weight, and of equal scores the better-ranked candidate stays first.
/// Compared as bare f32 sums, such ties fell either way by rounding: hybrid MRR@10 on
/// `benches/queries.jsonl` 0.814 -> 0.815 and held-out 0.703 -> 0.704 with them settled.
pub fn rerank<'a>(
    ranked: &mut [(usize, f32)],
    fit: impl Fn(usize) -> Option<f32>,
    twin: impl Fn(usize) -> Option<(&'a str, bool)>,
) {
    let n = ranked.len().min(DEPTH);
    let fits: Vec<f32> = ranked[..n]
        .iter()
        .map(|&(i, _)| fit(i).unwrap_or(0.0))
        .collect();
    // Operations with the same summary are one text to the rankings, which order them by
    // chance: they keep the ranks they hold between them, and one whose method does the
    // action takes the better. (Traded by their whole fit, a pair's better-fitting twin
    // climbed over what lay between: for "what states can a User Story be in", the
    // current process's state update took its old twin's place, above the answer.)
    let twins: Vec<Option<(&str, bool)>> = ranked[..n].iter().map(|&(i, _)| twin(i)).collect();
    let mut place: Vec<usize> = (0..n).collect();
    for first in 0..n {
        let Some((summary, _)) = twins[first] else {
            continue;
        };
        let same = |r: &usize| twins[*r].is_some_and(|(s, _)| s == summary);
        if (0..first).any(|r| same(&r)) {
            continue;
        }
        let ranks: Vec<usize> = (first..n).filter(same).collect();
        let mut better = ranks.clone();
        // A stable sort: twins alike in method keep their order.
        better.sort_by_key(|&r| !twins[r].is_some_and(|(_, m)| m));
        for (&rank, &twin) in ranks.iter().zip(&better) {
            place[twin] = rank;
        }
    }
    for (rank, (_, score)) in ranked[..n].iter_mut().enumerate() {
        let base = 1.0 - place[rank] as f32 / DEPTH as f32;
        *score = base + fits[rank];
    }
    // A stable sort: equal steps keep their rank order.
    ranked[..n].sort_by_key(|&(_, score)| std::cmp::Reverse((score / TIE).round() as i64));
}

/// The step in which re-ranked scores are compared ([`rerank`]). Bases are multiples of
/// 1/[`DEPTH`] and weights of 0.01, so exact sums never fall halfway between two steps.
const TIE: f32 = 1e-4;

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_actions(cases: &[(&str, Action)]) {
        for (q, action) in cases {
            assert_eq!(QueryShape::of(q).action, Some(*action), "{q}");
        }
    }

    #[test]
    fn an_equal_score_keeps_the_better_rank() {
        // Rank 1 with 0.1 and rank 4 with 0.2 score 1 + 1/15 each; as f32 sums the second
        // came out larger.
        let mut ranked: Vec<(usize, f32)> = (10..15).map(|i| (i, 0.0)).collect();
        rerank(
            &mut ranked,
            |i| match i {
                11 => Some(0.1),
                14 => Some(0.2),
                _ => None,
            },
            |_| None,
        );
        let order: Vec<usize> = ranked.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, [11, 14, 10, 12, 13]);
    }

    #[test]
    fn a_query_says_what_it_looks_up_by() {
        let by = |q: &str| QueryShape::of(q).by;
        assert_eq!(by("read a wiki page by its path"), Some("path".to_string()));
        assert_eq!(
            by("get agent pools by their names"),
            Some("name".to_string())
        );
        assert_eq!(by("list the agent pools"), None);
        // Only the first sentence asks; later ones say how the tool is called.
        assert_eq!(by("Lists the pools. Filter by name."), None);
    }

    #[test]
    fn a_name_that_opens_with_query_reads() {
        assert_eq!(name_verb("query"), Some(Action::List));
        // In a query's own words "query" is a thing ("run a saved query").
        assert_eq!(verb("query"), None);
        assert_eq!(
            QueryShape::of("run a saved query").action,
            Some(Action::Run)
        );
    }

    #[test]
    fn operations_with_one_summary_trade_places_by_method() {
        // 11 and 13 share a summary; 13's method does the action and 11's does not, so 13
        // takes 11's place and 11 takes 13's, behind 12.
        let mut ranked: Vec<(usize, f32)> = (10..14).map(|i| (i, 0.0)).collect();
        let twin = |i: usize| match i {
            11 => Some(("Add a thing.", false)),
            13 => Some(("Add a thing.", true)),
            _ => None,
        };
        rerank(&mut ranked, |_| None, twin);
        let order: Vec<usize> = ranked.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, [10, 13, 12, 11]);

        // Twins alike in method keep their places; a better fit counts as anywhere else
        // (23 passes 22) without taking its twin's place (20 stays first).
        let mut ranked: Vec<(usize, f32)> = (20..24).map(|i| (i, 0.0)).collect();
        let twin = |i: usize| match i {
            20 | 23 => Some(("Get a group.", true)),
            _ => None,
        };
        rerank(&mut ranked, |i| (i == 23).then_some(0.05), twin);
        let order: Vec<usize> = ranked.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, [20, 21, 23, 22]);
    }

    /// [`TIE`] settles exact ties only while every weight is a multiple of 0.01.
    #[test]
    fn every_weight_is_a_multiple_of_a_hundredth() {
        for (name, w) in FEATURES {
            let hundredths = w * 100.0;
            assert!(
                (hundredths - hundredths.round()).abs() < 1e-3,
                "{name}: {w}"
            );
        }
    }

    #[test]
    fn a_query_names_run_together_segments() {
        let q = QueryShape::of("list the active pull requests of a repository");
        assert_eq!(q.action, Some(Action::List));
        assert_eq!(q.shape, Some(Shape::Collection));
        assert!(q.names("pullrequests"));
        assert!(q.names("pullRequests"));
        assert!(q.names("repositories"));
        assert!(!q.names("iterations"));
        assert!(!q.names("threads"));
        assert!(q.names("repos"));
        let q = QueryShape::of("get several work items by their ids");
        assert!(q.names("workitems"));
        assert_eq!(q.shape, Some(Shape::Collection));
        assert_eq!(
            QueryShape::of("get a pull request by id").shape,
            Some(Shape::Item)
        );
    }

    #[test]
    fn a_summary_says_its_actions() {
        let refs = "Creating, updating, or deleting refs(branches).";
        assert!(says(refs, Action::Delete));
        assert!(says(refs, Action::Update));
        assert!(says(refs, Action::Create));
        assert!(says("Adds/Removes tags from a build.", Action::Delete));
        assert!(!says("Adds/Removes tags from a build.", Action::Update));
        assert!(!says("Get a list of refs.", Action::List));
        assert!(!says("Restores the deleted work item.", Action::Delete));
    }

    #[test]
    fn a_plural_has_no_one_key() {
        for (q, shape) in [
            ("comments on pull request thread 5", Shape::Collection),
            (
                "read the discussion comments on work item 77",
                Shape::Collection,
            ),
            ("reviewers of pull request 311", Shape::Collection),
            ("get build 123", Shape::Item),
            ("get a pull request by id", Shape::Item),
            ("get the 3 newest builds", Shape::Collection),
            ("build 123 artifacts", Shape::Collection),
        ] {
            let q = QueryShape::of(q);
            assert_eq!(q.shape, Some(shape), "{q:?}");
            assert!(q.keyed, "{q:?}");
        }
    }

    #[test]
    fn a_stated_list_is_of_a_collection_whatever_key_it_gives() {
        let q = QueryShape::of(
            "Lists the agents registered in an agent pool. Provide the pool ID; results can \
             be filtered by agent name.",
        );
        assert_eq!(
            (q.action, q.shape),
            (Some(Action::List), Some(Shape::Collection))
        );
        // Keys past the first sentence are how it is called, not what it asks for.
        assert!(!q.keyed);
        assert!(QueryShape::of("get a repository by name").keyed);
        // Without a stated verb, a key still asks for one item.
        assert_eq!(QueryShape::of("agent pool 12").shape, Some(Shape::Item));
    }

    #[test]
    fn a_change_of_state_is_an_update() {
        for q in [
            "abandon a pull request",
            "cancel the running build",
            "lock a branch",
            "mark a PR as draft",
            "disable a pipeline",
        ] {
            assert_eq!(QueryShape::of(q).action, Some(Action::Update), "{q}");
        }
        // The first verb decides: "get" before an adjective "complete".
        assert_eq!(
            QueryShape::of("get the complete list of builds").action,
            Some(Action::Get)
        );
    }

    #[test]
    fn a_description_opens_with_its_verb_in_the_third_person() {
        assert_actions(&[
            (
                "Cancels a build that is queued or in progress.",
                Action::Update,
            ),
            ("Approves or rejects a pending approval.", Action::Update),
            ("Modifies an existing pull request.", Action::Update),
            ("Fetches several work items in one call.", Action::Get),
            ("Lists pipelines defined in a project.", Action::List),
            ("Unpublishes a version of an npm package.", Action::Delete),
            ("Reply to a PR comment.", Action::Create),
            ("Grants permissions on a feed.", Action::Update),
            (
                "Authorizes a pipeline to use a service connection.",
                Action::Update,
            ),
            ("Push a commit to a repository.", Action::Create),
            ("Merges a pull request.", Action::Update),
            ("fork a repository", Action::Create),
        ]);
        // The first word of a glossary phrase is a noun.
        assert_eq!(
            QueryShape::of("merge requests of a repository").action,
            Some(Action::List)
        );
        // A plural noun opening a phrase is followed by its preposition; further in, an
        // inflected verb is a noun.
        assert_eq!(QueryShape::of("labels on a PR").action, Some(Action::List));
        assert_eq!(QueryShape::of("tags of a build").action, Some(Action::List));
        let q = QueryShape::of("get changes of a commit");
        assert_eq!(q.action, Some(Action::Get));
        assert_eq!(q.head.as_deref(), Some("change"));
    }

    #[test]
    fn a_question_without_a_verb_reads() {
        let q = QueryShape::of("what states can a user story be in");
        assert_eq!(
            (q.action, q.shape),
            (Some(Action::Get), Some(Shape::Collection))
        );
        assert_eq!(q.head.as_deref(), Some("state"));
        let q = QueryShape::of("how many builds failed this week");
        assert_eq!(q.action, Some(Action::List));
        // The verb still decides, and its object's shape too; a verbless question's
        // singular last word may be its verb, not an item.
        let q = QueryShape::of("how do I get a build");
        assert_eq!((q.action, q.shape), (Some(Action::Get), Some(Shape::Item)));
        assert_eq!(
            QueryShape::of("how do I delete a branch").action,
            Some(Action::Delete)
        );
        assert_eq!(QueryShape::of("which files changed").shape, None);
        assert_eq!(
            QueryShape::of("which variable groups exist")
                .head
                .as_deref(),
            Some("group")
        );
        // Not a question: no action.
        assert_eq!(QueryShape::of("build status badge").action, None);
    }

    #[test]
    fn a_verb_word_after_a_noun_is_a_noun() {
        // "runs", "queues", "list" name things after a noun, or first before "of".
        // (A bare plural lists.)
        for (q, action, head) in [
            ("test runs", Some(Action::List), "run"),
            ("agent queues of a project", Some(Action::List), "queue"),
            ("runs of a pipeline", Some(Action::List), "run"),
            ("pipeline runs history", None, "history"),
        ] {
            let shape = QueryShape::of(q);
            assert_eq!(shape.action, action, "{q}");
            assert_eq!(shape.head.as_deref(), Some(head), "{q}");
        }
        assert_eq!(
            QueryShape::of("GitRef list filtered by prefix").action,
            None
        );
        // Before an article, after an adverb or a question's words, first: a verb.
        assert_actions(&[
            ("bulk delete several work items", Action::Delete),
            ("permanently destroy a work item", Action::Delete),
            ("how do I run a pipeline", Action::Run),
            ("run a pipeline", Action::Run),
            ("package version details", Action::Get),
        ]);
        // A verb past the fourth word neither acts nor ends the object.
        let q = QueryShape::of("failed test results of a run");
        assert_eq!(
            (q.action, q.head.as_deref()),
            (Some(Action::List), Some("result"))
        );
    }

    #[test]
    fn the_verbs_of_the_product_act() {
        assert_actions(&[
            ("link a bug to a user story", Action::Update),
            ("unlink a work item from its parent", Action::Update),
            ("import a repository from GitHub", Action::Create),
            ("install an extension", Action::Create),
            ("attach a file to a test run", Action::Create),
            ("uninstall an extension", Action::Delete),
            ("react to a comment", Action::Create),
            ("unlist a NuGet package version", Action::Update),
        ]);
        // A download is read from whatever shape the API gives it: no action.
        assert_eq!(QueryShape::of("download a secure file").action, None);
    }

    #[test]
    fn a_long_query_names_its_resource_first() {
        let q = QueryShape::of(
            "Create a pull request from a source branch to a target branch with a title, \
             description and reviewers.",
        );
        assert!(q.names("pullRequests"));
        assert!(!q.names("reviewers"));
        assert!(QueryShape::of("add reviewers to a pull request").names("reviewers"));
    }

    #[test]
    fn a_bare_plural_lists() {
        let q = QueryShape::of("tags on a build");
        assert_eq!(
            (q.action, q.shape),
            (Some(Action::List), Some(Shape::Collection))
        );
        // A singular asks for no action; a verb decides.
        assert_eq!(QueryShape::of("build status badge").action, None);
        assert_eq!(
            QueryShape::of("publish test results to a run").action,
            Some(Action::Create)
        );
        // A preposition ends the object: "full text search across work items" is a search.
        assert_eq!(
            QueryShape::of("full text search across work items")
                .head
                .as_deref(),
            Some("search")
        );
        // A question for a person or a thing reads, whatever its verb.
        assert_eq!(
            QueryShape::of("who can publish to a feed").action,
            Some(Action::Get)
        );
        assert_eq!(
            QueryShape::of("how do I publish a package").action,
            Some(Action::Create)
        );
    }

    #[test]
    fn a_query_gives_keys_by_id_or_name() {
        assert!(QueryShape::of("get agent pools by their ids").keyed);
        assert!(QueryShape::of("secure files named deploy.pfx").keyed);
        assert!(QueryShape::of("build 1234").keyed);
        assert!(!QueryShape::of("list secure files").keyed);
    }

    #[test]
    fn the_object_is_the_head_noun_of_the_phrase() {
        // The glossary's word for it: a branch is a ref.
        assert!(QueryShape::of("list the branches of a repository").is_object("refs"));
        let q = QueryShape::of("PR comment threads");
        assert!(q.names("threads") && q.names("comments"));
        assert!(q.is_object("threads"));
        assert!(!q.is_object("comments"));
        // A compound's last two words run together name it: `pullRequests` (a segment ending
        // with the head alone, `requests`, was tried: it lost on `benches/queries.jsonl`).
        let q = QueryShape::of("list the active pull requests of a repository");
        assert!(q.is_object("pullRequests") && !q.is_object("statuses"));
        assert!(!QueryShape::of("list").is_object("list"));
        // A glossary phrase's API words run together name the segment: a user story is a
        // work item, a PR a pull request.
        assert!(QueryShape::of("create a user story").is_object("workItems"));
        assert!(QueryShape::of("list user stories in a project").is_object("workitems"));
        assert!(QueryShape::of("list open PRs").is_object("pullrequests"));
        assert!(!QueryShape::of("create a user story").is_object("items"));
        // All of the API words, not only the last two: a search feature's results.
        assert!(QueryShape::of("search work items").is_object("workItemSearchResults"));
        assert!(!QueryShape::of("search work items").is_object("searchResults"));
        // A phrase's one API word too: a YAML pipeline is a pipeline, where a pipeline
        // alone is a build definition.
        assert!(QueryShape::of("list YAML pipelines").is_object("pipelines"));
        assert!(QueryShape::of("list pipelines").is_object("definitions"));
    }

    #[test]
    fn a_summary_is_said_with_its_prepositions_in_place() {
        let said = |query: &str, summary: &str| says_query(&QueryShape::of(query), &words(summary));
        // Which preposition does not matter, nor do articles.
        assert!(said(
            "get the logs for a build",
            "Gets the logs of a build."
        ));
        // That there is one does: an agent pool is not an agent added to a pool.
        assert!(said("add an agent to a pool", "Adds an agent to a pool."));
        assert!(!said("Add an agent pool.", "Adds an agent to a pool."));
    }

    #[test]
    fn the_number_of_an_abbreviation_is_its_api_words() {
        assert!(QueryShape::of("List PRs in a repo.").plural);
        assert!(!QueryShape::of("Show a PR.").plural);
        assert!(QueryShape::of("list builds").plural);
    }

    #[test]
    fn a_path_has_its_resource_last() {
        let (lit, item) = segments(
            "/{organization}/{project}/_apis/git/repositories/{repositoryId}/pullRequests/{pullRequestId}/iterations",
        );
        assert_eq!(lit, ["git", "repositories", "pullrequests", "iterations"]);
        assert!(!item);
        let (_, item) = segments("/{organization}/_apis/projects/{projectId}");
        assert!(item);
        // A parameter inside a segment is a parameter: `workitems/${type}` creates a work
        // item, it is not a resource named `${type}`.
        let (lit, item) = segments("/{organization}/{project}/_apis/wit/workitems/${type}");
        assert_eq!(lit, ["wit", "workitems"]);
        assert!(item);
    }

    #[test]
    fn versions_compare_as_numbers_and_on_premises_ones_not_at_all() {
        assert_eq!(version_key("7.2"), [7, 2]);
        assert!(version_key("4.1") < version_key("7.2"));
        assert!(version_key("7.10") > version_key("7.2"));
        assert!(version_key("azure-devops-server-2020").is_empty());
        assert!(version_rank("azure-devops-server-2020") < version_rank("4.1"));
        assert!(version_rank("7.10") > version_rank("7.2"));
    }

    #[test]
    fn singulars() {
        for (p, s) in [
            ("repositories", "repository"),
            ("refs", "ref"),
            ("status", "status"),
            ("branches", "branch"),
            ("pullrequests", "pullrequest"),
            ("statuses", "status"),
        ] {
            assert_eq!(singular(p), s);
        }
    }
}
