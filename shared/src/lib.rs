//! Latch: self-hosted password authentication that speaks Stytch's Passwords API.
//!
//! Data flows one way: HTTP → [`api`] (wire types, envelope) → [`handlers`] → [`flows`] → domain logic
//! ([`policy`], [`hashing`], [`sessions`], [`lockout`]) → ports ([`store::Store`],
//! [`policy::BreachCheck`], [`clock::Clock`]) → adapters (SQLite, HIBP).

pub mod account_enumeration;
pub mod api;
pub mod app;
pub mod aws_calls;
pub mod blocking;
pub mod bootstrap;
pub mod bounded_map;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod domain;
pub mod error;
pub mod files;
pub mod flows;
pub mod handlers;
pub mod hashing;
pub mod lockout;
pub mod mail;
pub mod policy;
pub mod redirects;
pub mod server;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod store;
pub mod totp;

#[cfg(test)]
mod test_support;

pub use app::{router, router_for};
pub use handlers::routes::{Route, ROUTES};
pub use state::AppState;
