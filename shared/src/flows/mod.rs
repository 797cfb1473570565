//! The multi-step rules several endpoints share (docs/architecture.md, "The flows"), one module
//! each. A handler parses its request, calls these and the domain, and shapes the answer; a flow
//! knows nothing of HTTP or of the wire's shapes.

pub mod emailed_links;
pub mod login;
pub mod members;
pub mod mfa;
pub mod password_records;
pub mod tokens;
pub mod users;
