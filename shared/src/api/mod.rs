//! The wire layer: envelopes, extractors, project auth and the objects the SDKs parse.

pub mod auth;
pub mod b2b_wire;
pub mod error;
pub mod json;
pub mod openapi;
pub mod request_id;
pub mod route;
pub mod sdk;
pub mod wire;

pub use error::{Error, ErrorType};
pub use json::{JsonBody, QueryParams, Reply};
