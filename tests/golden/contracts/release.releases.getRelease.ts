/** Get a Release */
getRelease(args: {
  /** Project ID or project name */
  project: string;
  /** Id of the release. */
  releaseId: number;
  /** A filter which would allow fetching approval steps selectively based on whether it is automated, or manual. This would also decide whether we should fetch pre and post approval snapshots. Assumes All by default */
  approvalFilters?: ApprovalFilters;
  /** A comma-delimited list of extended properties to be retrieved. If set, the returned Release will contain values for the specified property Ids (if they exist). If not set, properties will not be included. */
  propertyFilters?: string;
  /** A property that should be expanded in the release. */
  $expand?: SingleReleaseExpands;
  /** Number of release gate records to get. Default is 5. */
  $topGateRecords?: number;
  /** Include disabled definitions (if set to 'false' returns error, default is 'true') */
  includeDisabledDefinitions?: boolean;
}): Promise<Release>;

type ApprovalFilters = "none" | "manualApprovals" | "automatedApprovals" | "approvalSnapshots" | "all";
type SingleReleaseExpands = "none" | "tasks";
interface Release {
  _links?: ReferenceLinks;
  /** Gets or sets the list of artifacts. */
  artifacts?: Artifact[];
  /** Gets or sets comment. */
  comment?: string;
  createdBy?: IdentityRef;
  createdFor?: IdentityRef;
  /** Gets date on which it got created. */
  createdOn?: string /* date-time */;
  /** Gets revision number of definition snapshot. */
  definitionSnapshotRevision?: number;
  /** Gets or sets description of release. */
  description?: string;
  /** Gets list of environments. */
  environments?: ReleaseEnvironment[];
  /** Gets the unique identifier of this field. */
  id?: number;
  /** Whether to exclude the release from retention policies. */
  keepForever?: boolean;
  /** Gets logs container url. */
  logsContainerUrl?: string;
  modifiedBy?: IdentityRef;
  /** Gets date on which it got modified. */
  modifiedOn?: string /* date-time */;
  /** Gets name. */
  name?: string;
  /** Gets pool name. */
  poolName?: string;
  projectReference?: ProjectReference;
  properties?: PropertiesCollection;
  /** Gets reason of release. */
  reason?: "none" | "manual" | "continuousIntegration" | "schedule" | "pullRequest";
  releaseDefinition?: ReleaseDefinitionShallowReference;
  /** Gets or sets the release definition revision. */
  releaseDefinitionRevision?: number;
  /** Gets release name format. */
  releaseNameFormat?: string;
  /** Gets status. */
  status?: "undefined" | "draft" | "active" | "abandoned";
  /** Gets or sets list of tags. */
  tags?: string[];
  triggeringArtifactAlias?: string;
  /** Gets the list of variable groups. */
  variableGroups?: VariableGroup[];
  /** Gets or sets the dictionary of variables. */
  variables?: Record<string, ConfigurationVariableValue>;
}
/** REST links by relation name (`self`, `web`, ...). */
type ReferenceLinks = Record<string, { href: string }>;
interface Artifact {
  alias?: string;
  definitionReference?: Record<string, ArtifactSourceReference>;
  isPrimary?: boolean;
  isRetained?: boolean;
  type?: string;
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
interface ReleaseEnvironment {
  conditions?: ReleaseCondition[];
  createdOn?: string /* date-time */;
  definitionEnvironmentId?: number;
  deployPhasesSnapshot?: DeployPhase[];
  deploySteps?: DeploymentAttempt[];
  environmentOptions?: EnvironmentOptions;
  id?: number;
  modifiedOn?: string /* date-time */;
  name?: string;
  nextScheduledUtcTime?: string /* date-time */;
  owner?: IdentityRef;
  postApprovalsSnapshot?: ReleaseDefinitionApprovals;
  postDeployApprovals?: ReleaseApproval[];
  postDeploymentGatesSnapshot?: ReleaseDefinitionGatesStep;
  preApprovalsSnapshot?: ReleaseDefinitionApprovals;
  preDeployApprovals?: ReleaseApproval[];
  preDeploymentGatesSnapshot?: ReleaseDefinitionGatesStep;
  processParameters?: ProcessParameters;
  rank?: number;
  release?: ReleaseShallowReference;
  releaseCreatedBy?: IdentityRef;
  releaseDefinition?: ReleaseDefinitionShallowReference;
  releaseId?: number;
  scheduledDeploymentTime?: string /* date-time */;
  schedules?: ReleaseSchedule[];
  status?: "undefined" | "notStarted" | "inProgress" | "succeeded" | "canceled" | "rejected" | "queued" | "scheduled" | "partiallySucceeded";
  timeToDeploy?: number;
  triggerReason?: string;
  variableGroups?: VariableGroup[];
  variables?: Record<string, ConfigurationVariableValue>;
}
interface ProjectReference {
  id?: string /* uuid */;
  name?: string;
}
/** The class represents a property bag as a collection of key-value pairs. Values of all primitive types (any type with a `TypeCode != TypeCode.Object`) except for `DBNull` are accepted. Values of type Byte[], Int32, Double, DateType and String preserve their type, other primitives are retuned as a String. Byte[] expected as base64 encoded string. */
interface PropertiesCollection {
  count?: number;
  item?: Record<string, unknown>;
  keys?: string[];
  values?: string[];
}
interface ReleaseDefinitionShallowReference {
  _links?: ReferenceLinks;
  id?: number;
  name?: string;
  path?: string;
  projectReference?: ProjectReference;
  url?: string;
}
interface VariableGroup {
  createdBy?: IdentityRef;
  createdOn?: string /* date-time */;
  description?: string;
  id?: number;
  isShared?: boolean;
  modifiedBy?: IdentityRef;
  modifiedOn?: string /* date-time */;
  name?: string;
  providerData?: VariableGroupProviderData;
  type?: string;
  variableGroupProjectReferences?: VariableGroupProjectReference[];
  variables?: Record<string, VariableValue>;
}
interface ConfigurationVariableValue {
  allowOverride?: boolean;
  isSecret?: boolean;
  value?: string;
}
interface GraphSubjectBase {
  _links?: ReferenceLinks;
  descriptor?: string;
  displayName?: string;
  url?: string;
}
// Not expanded (ask by name): ArtifactSourceReference, DeployPhase, DeploymentAttempt, EnvironmentOptions, ProcessParameters, ReleaseApproval, ReleaseCondition, ReleaseDefinitionApprovals, ReleaseDefinitionGatesStep, ReleaseSchedule, ReleaseShallowReference, VariableGroupProjectReference, VariableGroupProviderData, VariableValue
// tokens: 1439
// note: depth: named types more than 2 levels from the signature are not expanded
