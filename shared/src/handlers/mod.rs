//! One async fn per endpoint, and the route table that names them.

pub mod b2b;
pub mod migrate;
pub mod passwords;
pub mod reset;
pub mod routes;
pub mod sdk;
pub mod sessions;
pub mod users;
