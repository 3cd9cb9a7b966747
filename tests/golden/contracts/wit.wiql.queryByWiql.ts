/** Gets the results of the query given its WIQL. */
queryByWiql(args: {
  /** Project ID or project name */
  project: string;
  /** Team ID or team name */
  team: string;
  /** Whether or not to use time precision. */
  timePrecision?: boolean;
  /** The max number of results to return. */
  $top?: number;
  /** The query containing the WIQL. */
  body: Wiql;
}): Promise<WorkItemQueryResult>;

/** A WIQL query */
interface Wiql {
  /** The text of the WIQL query */
  query?: string;
}
/** The result of a work item query. */
interface WorkItemQueryResult {
  /** The date the query was run in the context of. */
  asOf?: string /* date-time */;
  /** The columns of the query. */
  columns?: WorkItemFieldReference[];
  /** The result type */
  queryResultType?: "workItem" | "workItemLink";
  /** The type of the query */
  queryType?: "flat" | "tree" | "oneHop";
  /** The sort columns of the query. */
  sortColumns?: WorkItemQuerySortColumn[];
  /** The work item links returned by the query. */
  workItemRelations?: WorkItemLink[];
  /** The work items returned by the query. */
  workItems?: WorkItemReference[];
}
/** Reference to a field in a work item */
interface WorkItemFieldReference {
  name?: string;
  referenceName?: string;
  url?: string;
}
/** A sort column. */
interface WorkItemQuerySortColumn {
  descending?: boolean;
  field?: WorkItemFieldReference;
}
/** A link between two work items. */
interface WorkItemLink {
  rel?: string;
  source?: WorkItemReference;
  target?: WorkItemReference;
}
/** Contains reference to a work item. */
interface WorkItemReference {
  id?: number;
  url?: string;
}
// tokens: 413
