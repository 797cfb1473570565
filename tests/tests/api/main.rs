//! Black-box HTTP suites against an in-process Latch on a loopback port.
//! One integration binary (one link step) with a module per area.

mod auth_and_routing;
mod aws_faults;
mod b2b;
mod breach;
mod concurrency;
mod conformance;
mod digests;
mod faults;
mod hijack;
mod hot_path;
mod input;
mod jwt;
mod keys_at_rest;
mod lockout;
mod migrate;
mod openapi;
mod passwords;
mod reset;
mod route_table;
mod sdk;
mod sdk_consumer;
mod secrets;
mod serve;
mod sessions;
mod store;
mod template;
mod users;
