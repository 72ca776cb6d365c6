//! The one integration test binary: every test runs the real tools as a user would.

mod batch;
mod builds;
mod cases;
mod clients;
mod corpus;
mod demo;
mod harness;
mod hostile;
mod hostile_server;
mod house;
mod ids;
mod inspect;
mod live;
mod map;
mod markdown;
mod mock;
mod names;
mod no_panic;
mod parse;
mod post;
mod readme;
mod recipes;
mod server;
mod threads;
mod validate;
