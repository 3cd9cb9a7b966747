//! Opens an opcat catalog artifact; the artifact format arrives with the artifact issue.
