//! `converge dump`: an existing database's schema as desired-state files.
//!
//! Adopting a database means writing down what it already is. `dump` turns a
//! `Snapshot` into SQL files, one per object, grouped by schema and kind, so
//! that planning the same database against them gives an empty plan:
//!
//! ```text
//! extensions.sql                  CREATE EXTENSION (with schema and version)
//! default_privileges.sql          ALTER DEFAULT PRIVILEGES
//! <schema>/schema.sql             CREATE SCHEMA, its comment, owner and grants
//! <schema>/types/<name>.sql       enum, domain, composite and range types
//! <schema>/collations/<name>.sql  collations
//! <schema>/sequences/<name>.sql   standalone sequences (not OWNED BY a column)
//! <schema>/functions/<name>.sql   every overload of a function or procedure name
//! <schema>/aggregates/<name>.sql  every aggregate of a name
//! <schema>/tables/<name>.sql      the table (columns, constraints, comments,
//!                                 grants, row-level security), the sequences its
//!                                 columns own, its indexes, triggers and policies
//! <schema>/views/<name>.sql       a view or materialized view, its indexes and
//!                                 triggers
//! ```
//!
//! The SQL comes from the same renderers as a plan's (`sql::render` of the
//! `Create*` change of each object), so there is one source of truth for how
//! an object is written. Files may be read in any order: converge orders the
//! statements itself. Two rules keep them loadable and equal to the database:
//!
//! - Foreign keys are written inside `CREATE TABLE`, except for tables that
//!   reference each other (directly or through a ring of tables): such a table's
//!   foreign keys (other than those to itself) follow it as
//!   `ALTER TABLE ... ADD CONSTRAINT` in the same file, since no order of
//!   CREATE TABLE statements could satisfy them.
//! - Constraints that are `NOT VALID` are added by `ALTER TABLE` after the
//!   table: PostgreSQL marks every constraint written in `CREATE TABLE` valid.
//!
//! Privileges are written out in full for each object (GRANT and REVOKE
//! relative to PostgreSQL's built-in defaults). When default privileges of
//! the connecting role apply to an object's kind, the file also revokes or
//! grants what they would have changed, so the object ends with the same
//! privileges whether the default privileges were loaded before or after it.
//!
//! What every new database already has is not created again: the `public`
//! schema's file holds only what differs from a new database's (and is
//! written even when nothing does), and `plpgsql` is left out of
//! `extensions.sql`. The few printed definitions PostgreSQL does not read
//! back to themselves are written so that they do (see `rewrite`).
//! Names that are not safe file names are percent-encoded (`My Table` is
//! `My%20Table.sql`).

mod build;
mod paths;
mod rewrite;

pub use paths::write;

use crate::catalog::Snapshot;
use std::path::PathBuf;

/// What to dump beyond the schema itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DumpOptions {
    /// Write `ALTER ... OWNER TO` for every object (for `plan` with owners
    /// managed); otherwise owners are left out.
    pub owners: bool,
}

/// One desired-state file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpFile {
    /// Relative to the output directory: `app/tables/orders.sql`.
    pub path: PathBuf,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("{} is not empty: dump writes only into an empty directory (--force replaces the .sql files in it)", .dir.display())]
    NotEmpty { dir: PathBuf },
    #[error("{} exists and is not a directory", .path.display())]
    NotADirectory { path: PathBuf },
    #[error("cannot write {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The desired-state files of `snapshot`'s schema, sorted by path.
pub fn dump(snapshot: &Snapshot, options: &DumpOptions) -> Result<Vec<DumpFile>, DumpError> {
    Ok(build::files(snapshot, options))
}
