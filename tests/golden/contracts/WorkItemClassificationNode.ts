/** Defines a classification node for work item tracking. */
interface WorkItemClassificationNode extends WorkItemTrackingResource {
  /** Dictionary that has node attributes like start/finish date for iteration nodes. */
  attributes?: Record<string, Record<string, unknown>>;
  /** List of child nodes fetched. */
  children?: WorkItemClassificationNode[];
  /** Flag that indicates if the classification node has any child nodes. */
  hasChildren?: boolean;
  /** Integer ID of the classification node. */
  id?: number;
  /** GUID ID of the classification node. */
  identifier?: string /* uuid */;
  /** Name of the classification node. */
  name?: string;
  /** Path of the classification node. */
  path?: string;
  /** Node structure type. */
  structureType?: "area" | "iteration";
}
