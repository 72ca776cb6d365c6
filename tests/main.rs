//! The one integration test binary: every test runs the real tools as a user would.

mod batch;
mod corpus;
mod harness;
mod ids;
mod map;
mod mock;
mod parse;
mod post;
mod validate;
