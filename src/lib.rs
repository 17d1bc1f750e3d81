//! converge: declarative schema migrations for PostgreSQL.
//!
//! The desired schema is a set of plain SQL files. converge parses them
//! (`source`), loads them into a temporary shadow database (`shadow`) so that
//! PostgreSQL itself normalizes them, reads both the shadow and the target with
//! the same code (`introspect`) into a plain-data `catalog`, computes the
//! changes (`diff`), orders them into steps with a dependency graph (`plan`),
//! renders forward and rollback SQL (`sql`, `render`) and applies them in one
//! verified transaction (`apply`). `cli` is the thin edge that turns arguments
//! into calls and outcomes into exit codes.

pub mod allocator;
pub mod apply;
pub mod backup;
pub mod cache;
pub mod catalog;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod db;
pub mod diagnostic;
pub mod diff;
pub mod dump;
pub mod introspect;
pub mod pipeline;
pub mod plan;
pub mod precheck;
pub mod preflight;
pub mod render;
pub mod shadow;
pub mod source;
pub mod sql;
pub mod timings;
