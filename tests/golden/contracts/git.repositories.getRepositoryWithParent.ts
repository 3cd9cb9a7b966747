/** Retrieve a git repository. */
getRepositoryWithParent(args: {
  /** Project ID or project name */
  project: string;
  /** The name or ID of the repository. */
  repositoryId: string;
  /** True to include parent repository. Only available in authenticated calls. */
  includeParent: boolean;
}): Promise<GitRepository>;

interface GitRepository {
  _links?: ReferenceLinks;
  /** The timestamp when the repository was created. */
  creationDate?: string /* date-time */;
  defaultBranch?: string;
  id?: string /* uuid */;
  /** True if the repository is disabled. False otherwise. */
  isDisabled?: boolean;
  /** True if the repository was created as a fork. */
  isFork?: boolean;
  /** True if the repository is in maintenance. False otherwise. */
  isInMaintenance?: boolean;
  name?: string;
  parentRepository?: GitRepositoryRef;
  project?: TeamProjectReference;
  remoteUrl?: string;
  /** Compressed size (bytes) of the repository. */
  size?: number /* int64 */;
  sshUrl?: string;
  url?: string;
  validRemoteUrls?: string[];
  webUrl?: string;
}
/** REST links by relation name (`self`, `web`, ...). */
type ReferenceLinks = Record<string, { href: string }>;
interface GitRepositoryRef {
  collection?: TeamProjectCollectionReference;
  id?: string /* uuid */;
  isFork?: boolean;
  name?: string;
  project?: TeamProjectReference;
  remoteUrl?: string;
  sshUrl?: string;
  url?: string;
}
/** Represents a shallow reference to a TeamProject. */
interface TeamProjectReference {
  abbreviation?: string;
  defaultTeamImageUrl?: string;
  description?: string;
  id?: string /* uuid */;
  lastUpdateTime?: string /* date-time */;
  name?: string;
  revision?: number /* int64 */;
  state?: "deleting" | "new" | "wellFormed" | "createPending" | "all" | "unchanged" | "deleted";
  url?: string;
  visibility?: "private" | "public";
}
// Not expanded (ask by name): TeamProjectCollectionReference
// tokens: 458
// note: depth: named types more than 2 levels from the signature are not expanded
