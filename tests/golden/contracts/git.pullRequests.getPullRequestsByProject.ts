/** Retrieve all pull requests matching a specified criteria. */
getPullRequestsByProject(args: {
  /** Project ID or project name */
  project: string;
  /** If set, search for pull requests that were created by this identity. */
  "searchCriteria.creatorId"?: string /* uuid */;
  /** Whether to include the _links field on the shallow references */
  "searchCriteria.includeLinks"?: boolean;
  /** If set, filters pull requests that have labels matching the specified label names. */
  "searchCriteria.labels"?: string[];
  /** If specified, filters pull requests that created/closed before this date based on the queryTimeRangeType specified. */
  "searchCriteria.maxTime"?: string /* date-time */;
  /** If specified, filters pull requests that created/closed after this date based on the queryTimeRangeType specified. */
  "searchCriteria.minTime"?: string /* date-time */;
  /** The type of time range which should be used for minTime and maxTime. */
  "searchCriteria.queryTimeRangeType"?: PullRequestTimeRangeType;
  /** If set, search for pull requests whose target branch is in this repository. */
  "searchCriteria.repositoryId"?: string /* uuid */;
  /** If set, search for pull requests that have this identity as a reviewer. */
  "searchCriteria.reviewerId"?: string /* uuid */;
  /** If set, search for pull requests from this branch. */
  "searchCriteria.sourceRefName"?: string;
  /** If set, search for pull requests whose source branch is in this repository. */
  "searchCriteria.sourceRepositoryId"?: string /* uuid */;
  /** If set, search for pull requests that are in this state. */
  "searchCriteria.status"?: PullRequestStatus;
  /** The operator used for filtering by labels. */
  "searchCriteria.tagsFilterOperator"?: TagsFilterOperator;
  /** If set, search for pull requests into this branch. */
  "searchCriteria.targetRefName"?: string;
  /** If set, filters pull requests that contain the specified text in the title. */
  "searchCriteria.title"?: string;
  /** Not used. */
  maxCommentLength?: number;
  /** The number of pull requests to ignore. */
  $skip?: number;
  /** The number of pull requests to retrieve. */
  $top?: number;
}): Promise<{ count: number; value: GitPullRequest[] }>;

type PullRequestTimeRangeType = "created" | "closed";
type PullRequestStatus = "notSet" | "active" | "abandoned" | "completed" | "all";
type TagsFilterOperator = "and" | "or";
/** Represents all the data associated with a pull request. */
interface GitPullRequest {
  _links?: ReferenceLinks;
  /** A string which uniquely identifies this pull request. */
  artifactId?: string;
  autoCompleteSetBy?: IdentityRef;
  closedBy?: IdentityRef;
  /** The date when the pull request was closed (completed, abandoned, or merged externally). */
  closedDate?: string /* date-time */;
  /** The code review ID of the pull request. */
  codeReviewId?: number;
  /** The commits contained in the pull request. */
  commits?: GitCommitRef[];
  completionOptions?: GitPullRequestCompletionOptions;
  /** The most recent date at which the pull request entered the queue to be completed. */
  completionQueueTime?: string /* date-time */;
  createdBy?: IdentityRef;
  /** The date when the pull request was created. */
  creationDate?: string /* date-time */;
  /** The description of the pull request. */
  description?: string;
  forkSource?: GitForkRef;
  /** Multiple mergebases warning */
  hasMultipleMergeBases?: boolean;
  /** This optional parameter allows clients to use server-side dynamic choices for the target ref. */
  ignoreTargetRefAndChooseDynamically?: boolean;
  /** Draft / WIP pull request. */
  isDraft?: boolean;
  /** The labels associated with the pull request. */
  labels?: WebApiTagDefinition[];
  lastMergeCommit?: GitCommitRef;
  lastMergeSourceCommit?: GitCommitRef;
  lastMergeTargetCommit?: GitCommitRef;
  /** If set, pull request merge failed for this reason. */
  mergeFailureMessage?: string;
  /** The type of failure (if any) of the pull request merge. */
  mergeFailureType?: "none" | "unknown" | "caseSensitive" | "objectTooLarge";
  /** The ID of the job used to run the pull request merge. */
  mergeId?: string /* uuid */;
  mergeOptions?: GitPullRequestMergeOptions;
  /** The current status of the pull request merge. */
  mergeStatus?: "notSet" | "queued" | "conflicts" | "succeeded" | "rejectedByPolicy" | "failure";
  /** The ID of the pull request. */
  pullRequestId?: number;
  /** Used internally. */
  remoteUrl?: string;
  repository?: GitRepository;
  /** A list of reviewers on the pull request along with the state of their votes. */
  reviewers?: IdentityRefWithVote[];
  /** The name of the source branch of the pull request. */
  sourceRefName?: string;
  /** The status of the pull request. */
  status?: "notSet" | "active" | "abandoned" | "completed" | "all";
  /** If true, this pull request supports multiple iterations. */
  supportsIterations?: boolean;
  /** The name of the target branch of the pull request. */
  targetRefName?: string;
  /** The title of the pull request. */
  title?: string;
  /** Used internally. */
  url?: string;
  /** Any work item references associated with this pull request. */
  workItemRefs?: ResourceRef[];
}
interface IdentityRef extends GraphSubjectBase {
  directoryAlias?: string;
  id?: string;
  imageUrl?: string;
  inactive?: boolean;
  isAadIdentity?: boolean;
  isContainer?: boolean;
  isDeletedInOrigin?: boolean;
  profileUrl?: string;
  uniqueName?: string;
}
/** Information about a fork ref. */
interface GitForkRef extends GitRef {
  repository?: GitRepository;
}
/** The representation of a tag definition which is sent across the wire. */
interface WebApiTagDefinition {
  active?: boolean;
  id?: string /* uuid */;
  name?: string;
  url?: string;
}
/** The options which are used when a pull request merge is created. */
interface GitPullRequestMergeOptions {
  conflictAuthorshipCommits?: boolean;
  detectRenameFalsePositives?: boolean;
  disableRenames?: boolean;
}
interface ResourceRef {
  id?: string;
  url?: string;
}
// Not expanded (ask by name): GitCommitRef, GitPullRequestCompletionOptions, GitRef, GitRepository, GraphSubjectBase, IdentityRefWithVote, ReferenceLinks
// tokens: 1458
// note: depth: named types more than 2 levels from the signature are not expanded
// note: budget: descriptions cut to their first sentence (over 1500 tokens)
// note: budget: 4 named types not expanded (farthest from the signature first)
// note: noise: ReferenceLinks not expanded (a map of REST links)
