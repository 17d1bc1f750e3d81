//! Privileges: who may do what with an object, as sets of grants.
//!
//! An object's ACL is read with `aclexplode(coalesce(acl, acldefault(...)))`,
//! so an object that was never granted anything has the same ACL as one whose
//! grants were all revoked back to the default. The owner's own privileges are
//! left out: they come with ownership, and owners are converged separately
//! (and only when asked for). What the owner of a relation, schema or type
//! revoked from itself is kept, under the grantee `REVOKED_FROM_OWNER`
//! whoever the owner is: `ALTER ... OWNER TO` hands the owner's entries to
//! the new owner, so they belong to the object, not to a role.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One privilege granted to one role (`PUBLIC` for everyone).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub grantee: String,
    /// `SELECT`, `INSERT`, `USAGE`, `EXECUTE`, ...
    pub privilege: String,
    pub grantable: bool,
}

/// The grantee of the entries that name a privilege the object's owner does
/// not have (it revoked it from itself). No role has an empty name.
pub const REVOKED_FROM_OWNER: &str = "";

/// The grants of one object.
pub type Acl = BTreeSet<Grant>;

/// `ALTER DEFAULT PRIVILEGES`: the grants objects get when `role` creates
/// them (in `schema`, or anywhere when `schema` is empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultPrivileges {
    /// The creating role; `CURRENT_ROLE` stands for the role converge
    /// connects as (`ALTER DEFAULT PRIVILEGES` without `FOR ROLE`).
    pub role: String,
    pub schema: String,
    /// `TABLES`, `SEQUENCES`, `FUNCTIONS`, `TYPES` or `SCHEMAS`.
    pub object_type: String,
    pub grants: Acl,
}

/// The role converge connects as, in `DefaultPrivileges::role`.
pub const CURRENT_ROLE: &str = "CURRENT_ROLE";

impl DefaultPrivileges {
    pub fn key(&self) -> (String, String, String) {
        (self.role.clone(), self.schema.clone(), self.object_type.clone())
    }
}
