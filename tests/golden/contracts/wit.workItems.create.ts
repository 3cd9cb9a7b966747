/** Creates a single work item. */
create(args: {
  /** Project ID or project name */
  project: string;
  /** The work item type of the work item to create */
  type: string;
  /** Indicate if you only want to validate the changes without saving the work item */
  validateOnly?: boolean;
  /** Do not enforce the work item type rules on this update */
  bypassRules?: boolean;
  /** Do not fire any notifications for this change */
  suppressNotifications?: boolean;
  /** The expand parameters for work item attributes. Possible options are { None, Relations, Fields, Links, All }. */
  $expand?: WorkItemExpand;
  /** The JSON Patch document representing the work item */
  body: JsonPatchDocument /* application/json-patch+json */;
}): Promise<WorkItem>;

type WorkItemExpand = "none" | "relations" | "fields" | "links" | "all";
/** The JSON model for JSON Patch Operations */
type JsonPatchDocument = JsonPatchOperation[];
/** Describes a work item. */
interface WorkItem extends WorkItemTrackingResource {
  commentVersionRef?: WorkItemCommentVersionRef;
  /** Map of field and values for the work item. */
  fields?: Record<string, Record<string, unknown>>;
  /** The work item ID. */
  id?: number;
  /** Dictionary describing the Format for multiline fields selected by the last edit user. */
  multilineFieldsFormat?: Record<string, "markdown" | "html">;
  /** Relations of the work item. */
  relations?: WorkItemRelation[];
  /** Revision number of the work item. */
  rev?: number;
}
/** The JSON model for a JSON Patch operation */
interface JsonPatchOperation {
  from?: string;
  op?: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path?: string;
  value?: Record<string, unknown>;
}
/** Base class for WIT REST resources. */
interface WorkItemTrackingResource extends WorkItemTrackingResourceReference {
  _links?: ReferenceLinks;
}
/** Represents the reference to a specific version of a comment on a Work Item. */
interface WorkItemCommentVersionRef extends WorkItemTrackingResourceReference {
  commentId?: number;
  createdInRevision?: number;
  isDeleted?: boolean;
  text?: string;
  version?: number;
}
interface WorkItemRelation extends Link {}
/** Base class for work item tracking resource references. */
interface WorkItemTrackingResourceReference {
  url?: string;
}
/** REST links by relation name (`self`, `web`, ...). */
type ReferenceLinks = Record<string, { href: string }>;
/** Link description. */
interface Link {
  attributes?: Record<string, Record<string, unknown>>;
  rel?: string;
  url?: string;
}
// tokens: 583
