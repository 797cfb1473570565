//! Types that can only be had by parsing: once you hold one, it is valid.

pub mod duration;
pub mod email;
pub mod ids;
pub mod organization;
pub mod password;
pub mod pkce;
pub mod text;

pub use duration::SessionDuration;
pub use email::EmailAddress;
pub use password::Password;
